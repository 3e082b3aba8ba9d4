// The library test programs' host <-> device vector helpers (one copy for
// cublas_gemm, cublas_level23, cusolver_solve, cusparse_spmv, curand_moments).
#pragma once

#include <cuda_runtime.h>

#include <vector>

#include "test_util.h"

namespace rtest {

// A new device copy of `host` (room for one element when it is empty, so
// that the pointer is a real allocation).
template <class T>
T* ToDevice(const std::vector<T>& host) {
  T* d = nullptr;
  CUDA_CHECK(cudaMalloc(&d, (host.empty() ? 1 : host.size()) * sizeof(T)));
  if (!host.empty()) CUDA_CHECK(cudaMemcpy(d, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice));
  return d;
}

// `n` elements at `d`, read once `stream` (the legacy stream when null) has
// finished its work.
template <class T>
std::vector<T> FromDevice(const T* d, size_t n, cudaStream_t stream = nullptr) {
  std::vector<T> host(n);
  CUDA_CHECK(cudaStreamSynchronize(stream));
  CUDA_CHECK(cudaMemcpy(host.data(), d, n * sizeof(T), cudaMemcpyDeviceToHost));
  return host;
}

}  // namespace rtest
