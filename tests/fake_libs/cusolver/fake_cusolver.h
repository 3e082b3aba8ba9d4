// TEST EQUIPMENT: what the host cuSOLVER double's files share (the handle,
// the stream wait, indexing, the workspace it asks for). See fake_cusolver.cc.
#pragma once

#include <cuda.h>
#include <cusolverDn.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

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

// ---- The 64-bit generic API (fake_cusolver.cc, fake_cusolver_qr_eig.cc) ----

// The host workspace this double asks for, in bytes: nonzero, so that the
// forwarding of bufferOnHost is exercised.
inline size_t HostWorkspaceBytes(int64_t n) { return 64 + 16 * static_cast<size_t>(std::max<int64_t>(n, 0)); }

inline bool FitsInt(int64_t v) { return v >= 0 && v <= INT32_MAX; }

// The element type of a call whose data and compute types agree: 4 (float)
// or 8 (double) bytes, 0 for anything else.
inline size_t RealBytes(cudaDataType data, cudaDataType compute) {
  if (data != compute) return 0;
  return data == CUDA_R_32F ? 4 : data == CUDA_R_64F ? 8 : 0;
}

inline cusolverStatus_t XQuery(cusolverDnHandle_t h, const void* params, int64_t rows, int64_t cols, int64_t lda,
                        cudaDataType data, cudaDataType compute, size_t* device, size_t* host) {
  if (h == nullptr) return CUSOLVER_STATUS_NOT_INITIALIZED;
  if (params == nullptr || !FitsInt(rows) || !FitsInt(cols) || lda < std::max<int64_t>(1, rows) ||
      RealBytes(data, compute) == 0 || device == nullptr || host == nullptr)
    return CUSOLVER_STATUS_INVALID_VALUE;
  *device = RealBytes(data, compute) * static_cast<size_t>(WorkElements(static_cast<int>(rows)));
  *host = HostWorkspaceBytes(cols);
  return CUSOLVER_STATUS_SUCCESS;
}

// A factorization's workspaces, trusted as NVIDIA's library trusts them:
// the sizes passed are not checked against what XQuery asks (rcuda's worker
// must check them), and the double writes all of the host workspace it
// asks for, as a library that uses it would (an undersized buffer is a
// heap overflow, which the sanitizer runs report).
inline bool UseWorkspaces(int64_t cols, const void* device, void* host) {
  if (device == nullptr || host == nullptr) return false;
  std::memset(host, 0xA5, HostWorkspaceBytes(cols));
  return true;
}


}  // namespace rcuda::fake_cusolver

using namespace rcuda::fake_cusolver;  // NOLINT: the double's files read as one
