// A little shared by the examples: stop with a readable message when a CUDA
// call fails.
#pragma once

#include <cstdio>
#include <cstdlib>

#include <cuda_runtime.h>

#define CHECK_CUDA(call)                                                                          \
  do {                                                                                            \
    cudaError_t err_ = (call);                                                                    \
    if (err_ != cudaSuccess) {                                                                    \
      std::fprintf(stderr, "%s:%d: %s failed: %s (%s)\n", __FILE__, __LINE__, #call,              \
                   cudaGetErrorString(err_), cudaGetErrorName(err_));                             \
      std::exit(1);                                                                               \
    }                                                                                             \
  } while (0)

// Prints which GPU the example runs on (with rcuda: the remote one).
inline void PrintDevice() {
  int device = 0;
  CHECK_CUDA(cudaGetDevice(&device));
  cudaDeviceProp prop;
  CHECK_CUDA(cudaGetDeviceProperties(&prop, device));
  std::printf("device %d: %s (compute capability %d.%d)\n", device, prop.name, prop.major, prop.minor);
}
