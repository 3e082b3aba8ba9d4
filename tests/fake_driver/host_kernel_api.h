// The ABI between the fake CUDA driver (tests/fake_driver, the test backend
// of rcuda-server) and plugins of host kernels.
//
// TEST EQUIPMENT. The fake libcuda.so.1 keeps "device" memory in host memory
// and runs each kernel as a host function registered under the kernel's
// mangled name. It exists so that CI, which has no GPU, can drive the whole
// path (client library, protocol, server, worker, CUDA executor). Nothing it
// computes is a GPU result.
//
// A plugin is a shared object that exports rcuda_test_kernels_init(). The
// fake driver loads the plugins named in RCUDA_FAKE_DRIVER_KERNELS
// (colon-separated; `rcuda-server --backend test --test-kernels path.so`,
// repeatable, sets it) at cuInit and calls each init function once, which
// registers each kernel by name. A launch runs on the stream's worker thread
// of the fake, after the stream's earlier work. Device pointers in the packed
// parameter buffer are plain host addresses in the worker process, so a host
// kernel dereferences them directly.
//
// Writing a host kernel:
//
//   RCUDA_TEST_KERNEL("_Z6vecAddPKfS0_Pfi", vec_add) {
//     auto a = rcuda::testk::Param<const float*>(launch, 0);
//     auto b = rcuda::testk::Param<const float*>(launch, 1);
//     auto c = rcuda::testk::Param<float*>(launch, 2);
//     auto n = rcuda::testk::Param<int>(launch, 3);
//     rcuda::testk::ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
//       unsigned i = bi.x * launch->block.x + ti.x;
//       if (i < (unsigned)n) c[i] = a[i] + b[i];
//     });
//     return 0;
//   }
//   RCUDA_TEST_KERNELS_PLUGIN()   // once per plugin, in one source file
#pragma once

#include <cstdarg>
#include <cstddef>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <vector>

extern "C" {

struct rcuda_dim3 {
  uint32_t x, y, z;
};

struct rcuda_test_launch {
  rcuda_dim3 grid;
  rcuda_dim3 block;
  // The kernel's parameter buffer, laid out as the cubin says
  // (offsets and sizes from EIATTR_KPARAM_INFO).
  const uint8_t* params;
  const uint32_t* param_offsets;
  const uint32_t* param_sizes;
  uint32_t param_count;
  // Dynamic shared memory requested by the launch; the fake driver provides
  // a buffer of this size (PerBlock zeroes it for each block: host kernels
  // run one block at a time).
  void* dynamic_shared;
  size_t dynamic_shared_bytes;
  // Looks up a __device__/__constant__ variable of the kernel's module by
  // name; returns its host address in the fake driver, or nullptr.
  void* (*find_symbol)(const void* ctx, const char* name);
  // Returns 1 when [p, p+bytes) lies inside device memory the fake driver
  // handed out (allocations and module variables) or pinned host memory (of
  // cuMemHostAlloc or cuMemHostRegister, reachable as mapped memory), else 0. A host kernel
  // that models a faulting GPU kernel checks with it and returns 700
  // (cudaErrorIllegalAddress) instead of touching a wild pointer.
  int (*is_device_range)(const void* ctx, const void* p, size_t bytes);
  const void* ctx;
  // The kernel's printf: appends formatted text to the context's printf
  // FIFO, which the fake driver writes to fd 1 at its synchronization points
  // only, as the real one does (device_printf.h). Use DevicePrintf below.
  void (*device_printf)(const void* printf_ctx, const char* text, size_t bytes);
  const void* printf_ctx;
};

// Returns 0 on success, otherwise a cudaError_t value (700 for an illegal
// address) that faults the context as a kernel fault does on a GPU: it is
// reported asynchronously, and every later call of the session returns it.
typedef int (*rcuda_test_kernel_fn)(const rcuda_test_launch* launch);
typedef void (*rcuda_test_register_fn)(const char* mangled_name, rcuda_test_kernel_fn fn);
typedef void (*rcuda_test_kernels_init_fn)(rcuda_test_register_fn reg);

}  // extern "C"

namespace rcuda::testk {

// Thrown by Param<T> when a parameter's size does not match T; the plugin
// wrapper turns it into cudaErrorInvalidValue (1).
struct ParamMismatch : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Reads parameter `index` as T (by value: pointers, scalars, structs).
template <class T>
T Param(const rcuda_test_launch* launch, uint32_t index) {
  if (index >= launch->param_count || launch->param_sizes[index] != sizeof(T)) {
    throw ParamMismatch("test kernel parameter size mismatch");
  }
  T value;
  std::memcpy(&value, launch->params + launch->param_offsets[index], sizeof(T));
  return value;
}

// Runs fn(blockIdx, threadIdx) for every thread of the grid, block by block.
// Host kernels written this way cannot use __syncthreads() semantics across
// threads of a block: write per-block loops instead (see PerBlock).
template <class Fn>
void ForEachThread(const rcuda_test_launch* launch, Fn&& fn) {
  const rcuda_dim3 g = launch->grid, b = launch->block;
  for (uint32_t bz = 0; bz < g.z; ++bz)
    for (uint32_t by = 0; by < g.y; ++by)
      for (uint32_t bx = 0; bx < g.x; ++bx)
        for (uint32_t tz = 0; tz < b.z; ++tz)
          for (uint32_t ty = 0; ty < b.y; ++ty)
            for (uint32_t tx = 0; tx < b.x; ++tx) fn(rcuda_dim3{bx, by, bz}, rcuda_dim3{tx, ty, tz});
}

// Runs fn(blockIdx) once per block; the function loops over its threads
// itself, which lets it model __syncthreads() phases and shared memory.
template <class Fn>
void PerBlock(const rcuda_test_launch* launch, Fn&& fn) {
  const rcuda_dim3 g = launch->grid;
  for (uint32_t bz = 0; bz < g.z; ++bz)
    for (uint32_t by = 0; by < g.y; ++by)
      for (uint32_t bx = 0; bx < g.x; ++bx) {
        if (launch->dynamic_shared) std::memset(launch->dynamic_shared, 0, launch->dynamic_shared_bytes);
        fn(rcuda_dim3{bx, by, bz});
      }
}

// The host kernel's printf: formats as the device's printf does for the
// conversions test kernels use (%d, %u, %x, %f with a precision, %s, %c).
__attribute__((format(printf, 2, 3))) inline void DevicePrintf(const rcuda_test_launch* launch, const char* format,
                                                                ...) {
  char stack[512];
  va_list args;
  va_start(args, format);
  int n = std::vsnprintf(stack, sizeof stack, format, args);
  va_end(args);
  if (n < 0 || !launch->device_printf) return;
  if (static_cast<size_t>(n) < sizeof stack) {
    launch->device_printf(launch->printf_ctx, stack, static_cast<size_t>(n));
    return;
  }
  std::vector<char> heap(static_cast<size_t>(n) + 1);
  va_start(args, format);
  std::vsnprintf(heap.data(), heap.size(), format, args);
  va_end(args);
  launch->device_printf(launch->printf_ctx, heap.data(), static_cast<size_t>(n));
}

struct Registration {
  const char* name;
  rcuda_test_kernel_fn fn;
};

inline std::vector<Registration>& Registry() {
  static std::vector<Registration> registry;
  return registry;
}

struct Registrar {
  Registrar(const char* name, rcuda_test_kernel_fn fn) { Registry().push_back({name, fn}); }
};

// Wraps a kernel body so that a ParamMismatch becomes an error code.
template <int (*Body)(const rcuda_test_launch*)>
int Guarded(const rcuda_test_launch* launch) {
  try {
    return Body(launch);
  } catch (const ParamMismatch&) {
    return 1;  // cudaErrorInvalidValue
  }
}

}  // namespace rcuda::testk

#define RCUDA_TEST_KERNEL(mangled_name, ident)                                                     \
  static int ident##_body(const rcuda_test_launch* launch);                                        \
  static ::rcuda::testk::Registrar ident##_registrar(mangled_name,                                 \
                                                      &::rcuda::testk::Guarded<&ident##_body>);    \
  static int ident##_body([[maybe_unused]] const rcuda_test_launch* launch)

#define RCUDA_TEST_KERNELS_PLUGIN()                                                  \
  extern "C" __attribute__((visibility("default"))) void rcuda_test_kernels_init(    \
      rcuda_test_register_fn reg) {                                                  \
    for (const auto& r : ::rcuda::testk::Registry()) reg(r.name, r.fn);              \
  }
