// Helpers for the host kernels of the test programs (TEST EQUIPMENT, see
// tests/fake_driver/host_kernel_api.h). Each host kernel computes exactly what its GPU
// kernel computes, in the same float operation order where the program
// checks results exactly.
#pragma once

#include <chrono>
#include <cstdint>
#include <thread>

#include "tests/fake_driver/host_kernel_api.h"

namespace rcuda::testk {

// cudaError_t values host kernels return.
constexpr int kInvalidValue = 1;
constexpr int kInvalidSymbol = 13;
constexpr int kIllegalAddress = 700;

// blockIdx.x * blockDim.x + threadIdx.x, and the same in y.
inline uint32_t GlobalX(const rcuda_test_launch* l, rcuda_dim3 b, rcuda_dim3 t) { return b.x * l->block.x + t.x; }
inline uint32_t GlobalY(const rcuda_test_launch* l, rcuda_dim3 b, rcuda_dim3 t) { return b.y * l->block.y + t.y; }
inline uint64_t GridThreadsX(const rcuda_test_launch* l) { return uint64_t{l->grid.x} * l->block.x; }
inline uint32_t ThreadsPerBlock(const rcuda_test_launch* l) { return l->block.x * l->block.y * l->block.z; }

// A module variable's address in the fake driver, or nullptr.
template <class T>
T* Symbol(const rcuda_test_launch* l, const char* name) {
  return static_cast<T*>(l->find_symbol(l->ctx, name));
}

inline bool IsDeviceRange(const rcuda_test_launch* l, const void* p, size_t bytes) {
  return l->is_device_range(l->ctx, p, bytes) != 0;
}

// Models SpinForNs (tests/cuda/test_util.h): a GPU kernel that spins for a
// while on the global timer takes about as long on the test backend.
inline void SleepNs(long long ns) {
  if (ns > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(ns));
}

// Wrapping integer arithmetic, as the GPU does it.
inline int32_t WrapMulAdd(int32_t x, int32_t mul, int32_t add) {
  return static_cast<int32_t>(static_cast<uint32_t>(x) * static_cast<uint32_t>(mul) + static_cast<uint32_t>(add));
}

}  // namespace rcuda::testk
