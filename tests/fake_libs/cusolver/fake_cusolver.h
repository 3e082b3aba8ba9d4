// TEST EQUIPMENT: what the host cuSOLVER double's files share (the handle,
// the stream wait, indexing, the workspace it asks for). See fake_cusolver.cc.
#pragma once

#include <cuda.h>
#include <cusolverDn.h>

#include <algorithm>

#include "tests/fake_libs/fake_library.h"

#define FAKE_EXPORT extern "C" __attribute__((visibility("default")))

struct cusolverDnContext {
  cudaStream_t stream = nullptr;
};

namespace rcuda::fake_cusolver {

inline const rcuda::fake_libs::FakeLibrary kDouble(
    "libcusolver.so.12", "host LU, Cholesky, QR, symmetric eigensolver and SVD"
                       " on the fake driver's host memory, not a GPU and not NVIDIA's cuSOLVER");

inline bool DriverReached() { return kDouble.Driver().ok(); }

inline cusolverStatus_t WaitForStream(cusolverDnHandle_t h) {
  switch (kDouble.WaitFor(h->stream)) {
    case rcuda::fake_libs::FakeLibrary::Wait::kReached: return CUSOLVER_STATUS_SUCCESS;
    case rcuda::fake_libs::FakeLibrary::Wait::kNoDriver: return CUSOLVER_STATUS_NOT_INITIALIZED;
    case rcuda::fake_libs::FakeLibrary::Wait::kFailed: break;
  }
  return CUSOLVER_STATUS_EXECUTION_FAILED;
}

// Element (i, j) of a column-major matrix.
template <class T>
T& At(T* a, int lda, int i, int j) {
  return a[i + static_cast<long long>(j) * lda];
}

// The workspace this double asks for: one column (it does not use it).
inline int WorkElements(int rows) { return std::max(1, rows); }

inline bool ValidFill(cublasFillMode_t uplo) { return uplo == CUBLAS_FILL_MODE_LOWER || uplo == CUBLAS_FILL_MODE_UPPER; }

// A workspace query: the size this double asks for.
inline cusolverStatus_t Query(cusolverDnHandle_t h, int rows, int cols, int lda, int* lwork) {
  if (h == nullptr) return CUSOLVER_STATUS_NOT_INITIALIZED;
  if (rows < 0 || cols < 0 || lda < std::max(1, rows) || lwork == nullptr) return CUSOLVER_STATUS_INVALID_VALUE;
  *lwork = WorkElements(rows);
  return CUSOLVER_STATUS_SUCCESS;
}

}  // namespace rcuda::fake_cusolver

using namespace rcuda::fake_cusolver;  // NOLINT: the double's files read as one
