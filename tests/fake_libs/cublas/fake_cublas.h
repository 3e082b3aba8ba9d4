// TEST EQUIPMENT: what the host cuBLAS double's files share (the handle,
// the stream wait, BLAS indexing). See fake_cublas.cc.
#pragma once

#include <cublas_api.h>
#include <cuda.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "tests/fake_libs/fake_library.h"

#define FAKE_EXPORT extern "C" __attribute__((visibility("default")))

struct cublasContext {
  cudaStream_t stream = nullptr;
  cublasPointerMode_t pointer_mode = CUBLAS_POINTER_MODE_HOST;
  cublasMath_t math_mode = CUBLAS_DEFAULT_MATH;
  void* workspace = nullptr;
  size_t workspace_bytes = 0;
};

namespace rcuda::fake_cublas {

inline const rcuda::fake_libs::FakeLibrary kDouble(
    "libcublas.so.13", "host BLAS"
                       " on the fake driver's host memory, not a GPU and not NVIDIA's cuBLAS");

inline bool DriverReached() { return kDouble.Driver().ok(); }

// Waits until the handle's stream reaches this call
// (tests/fake_libs/driver_streams.h).
inline cublasStatus_t WaitForStream(cublasHandle_t h) {
  switch (kDouble.WaitFor(h->stream)) {
    case rcuda::fake_libs::FakeLibrary::Wait::kReached: return CUBLAS_STATUS_SUCCESS;
    case rcuda::fake_libs::FakeLibrary::Wait::kNoDriver: return CUBLAS_STATUS_NOT_INITIALIZED;
    case rcuda::fake_libs::FakeLibrary::Wait::kFailed: break;
  }
  return CUBLAS_STATUS_EXECUTION_FAILED;
}

inline bool Transposed(cublasOperation_t op) { return op == CUBLAS_OP_T || op == CUBLAS_OP_C; }
inline bool ValidOp(cublasOperation_t op) { return op == CUBLAS_OP_N || op == CUBLAS_OP_T || op == CUBLAS_OP_C; }

// Element i of a strided vector of n, BLAS style (a negative increment
// walks it from the end).
inline long long At(int i, int n, int inc) {
  return inc >= 0 ? static_cast<long long>(i) * inc : static_cast<long long>(n - 1 - i) * -inc;
}

// Runs `body` after the handle's stream reached the call, if the handle is one.
template <class Body>
cublasStatus_t OnStream(cublasHandle_t h, const Body& body) {
  if (h == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  cublasStatus_t s = WaitForStream(h);
  if (s != CUBLAS_STATUS_SUCCESS) return s;
  body();
  return CUBLAS_STATUS_SUCCESS;
}

}  // namespace rcuda::fake_cublas

using namespace rcuda::fake_cublas;  // NOLINT: the double's files read as one
