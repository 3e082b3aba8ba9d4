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

// A texture or surface object as a host kernel sees it (sampled_object):
// its elements in the fake's device memory and how they are sampled.
struct rcuda_test_sampled_object {
  const uint8_t* base;      // element (0, 0)
  uint64_t width, height;   // elements, rows (slice 0 of a 3-D array)
  uint64_t pitch;           // bytes between rows
  uint32_t element_bytes;
  uint32_t format;          // CUarray_format
  uint32_t channels;
  uint32_t address[3];      // CUaddress_mode per dimension
  uint32_t filter;          // CUfilter_mode
  uint32_t flags;           // CU_TRSF_*
  float border[4];
  // A mipmapped array's texture: its levels (1 for any other resource; the
  // fields above describe level 0), its mipmap filter (CUfilter_mode), the
  // level bias and clamps. sampled_level gives each level.
  uint32_t levels;
  uint32_t mipmap_filter;
  float level_bias, min_level_clamp, max_level_clamp;
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
  // The texture (surface 0) or surface object `object` of the program
  // (cudaTextureObject_t, cudaSurfaceObject_t); returns 0, or a cudaError_t
  // (400 for an object the fake never made, 700 once its memory is gone).
  // Use rcuda::testk::Texture and Surface below.
  int (*sampled_object)(uint64_t object, int surface, rcuda_test_sampled_object* out);
  // Level `level` of a texture object's mipmapped array, as sampled_object
  // gives level 0 (the same errors; 1 for a level it does not have).
  int (*sampled_level)(uint64_t object, uint32_t level, rcuda_test_sampled_object* out);
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
// Thrown by a helper below for what faults on a GPU (a surface access out
// of bounds, an object the program never made); the plugin wrapper returns
// its code, which faults the context.
struct KernelFault : std::runtime_error {
  int code;
  explicit KernelFault(int c) : std::runtime_error("host kernel fault"), code(c) {}
};

// A texture object, sampled as tex2D<T>(object, x, y) samples it with point
// filtering: coordinates (normalized with CU_TRSF_NORMALIZED_COORDINATES)
// address element floor(x), floor(y) after the address mode (wrap, clamp,
// mirror, border); T is the element type (cudaReadModeElementType).
class Texture {
 public:
  Texture(const rcuda_test_launch* launch, uint64_t object) : launch_(launch), object_(object) {
    int e = launch->sampled_object ? launch->sampled_object(object, 0, &o_) : 801;
    if (e != 0) throw KernelFault(e);
    if (o_.filter != 0) throw KernelFault(801);  // linear filtering is not modeled
  }

  // tex2DLod<T>(object, x, y, level) of a mipmapped array's texture with
  // point mipmap filtering: the level is level + bias, clamped to the
  // texture's clamps (a zeroed descriptor's keep level 0, as on a GPU) and
  // to the levels there are, rounded to the nearest.
  template <class T>
  T FetchLod2D(float x, float y, float level) const {
    if (o_.mipmap_filter != 0) throw KernelFault(801);  // linear mipmap filtering is not modeled
    float lod = level + o_.level_bias;
    lod = lod < o_.min_level_clamp ? o_.min_level_clamp : lod > o_.max_level_clamp ? o_.max_level_clamp : lod;
    const float top = float(o_.levels - 1);
    lod = lod < 0 ? 0 : lod > top ? top : lod;
    const uint32_t l = static_cast<uint32_t>(__builtin_floor(lod + 0.5f));
    if (l == 0) return Fetch2D<T>(x, y);
    Texture level_texture(*this);
    int e = launch_->sampled_level ? launch_->sampled_level(object_, l, &level_texture.o_) : 801;
    if (e != 0) throw KernelFault(e);
    return level_texture.Fetch2D<T>(x, y);
  }

  template <class T>
  T Fetch2D(float x, float y) const {
    if (sizeof(T) != o_.element_bytes) throw KernelFault(1);
    T value;
    int64_t i = 0, j = 0;
    if (!Address(x, o_.width, o_.address[0], &i) || !Address(y, o_.height, o_.address[1], &j)) {
      Border(&value);
      return value;
    }
    std::memcpy(&value, o_.base + uint64_t(j) * o_.pitch + uint64_t(i) * o_.element_bytes, sizeof(T));
    return value;
  }

 private:
  // Element index of coordinate c in a dimension of n elements; false: the border.
  bool Address(float c, uint64_t n, uint32_t mode, int64_t* index) const {
    const bool normalized = (o_.flags & 2) != 0;  // CU_TRSF_NORMALIZED_COORDINATES
    const int64_t size = static_cast<int64_t>(n);
    double u = normalized ? double(c) * double(size) : double(c);
    if (normalized && mode == 0) u -= double(size) * __builtin_floor(u / double(size));        // wrap
    if (normalized && mode == 2) {                                                             // mirror
      double period = 2.0 * double(size);
      u -= period * __builtin_floor(u / period);
      if (u >= double(size)) u = period - u;
    }
    int64_t i = static_cast<int64_t>(__builtin_floor(u));
    if (i >= 0 && i < size) {
      *index = i;
      return true;
    }
    if (mode == 3) return false;  // border
    *index = i < 0 ? 0 : size - 1;  // clamp (and wrap/mirror of unnormalized coordinates, as CUDA does)
    return true;
  }

  template <class T>
  void Border(T* value) const {
    uint8_t bytes[sizeof(T)] = {};
    const uint32_t component = o_.element_bytes / o_.channels;
    for (uint32_t c = 0; c < o_.channels && c < 4; ++c) {
      if (o_.format == 0x20) {  // CU_AD_FORMAT_FLOAT
        std::memcpy(bytes + c * component, &o_.border[c], component);
      } else {
        int64_t v = static_cast<int64_t>(o_.border[c]);
        std::memcpy(bytes + c * component, &v, component);  // little-endian: the low bytes
      }
    }
    std::memcpy(value, bytes, sizeof(T));
  }

  const rcuda_test_launch* launch_;
  uint64_t object_;
  rcuda_test_sampled_object o_{};
};

// A surface object, read and written as surf2Dread/surf2Dwrite do with
// cudaBoundaryModeTrap: x in bytes; out of bounds faults.
class Surface {
 public:
  Surface(const rcuda_test_launch* launch, uint64_t object) {
    int e = launch->sampled_object ? launch->sampled_object(object, 1, &o_) : 801;
    if (e != 0) throw KernelFault(e);
  }
  template <class T>
  T Read2D(int x_bytes, int y) const {
    T value;
    std::memcpy(&value, At(x_bytes, y, sizeof(T)), sizeof(T));
    return value;
  }
  template <class T>
  void Write2D(const T& value, int x_bytes, int y) const {
    std::memcpy(At(x_bytes, y, sizeof(T)), &value, sizeof(T));
  }

 private:
  uint8_t* At(int x_bytes, int y, size_t bytes) const {
    if (x_bytes < 0 || y < 0 || uint64_t(x_bytes) + bytes > o_.width * o_.element_bytes || uint64_t(y) >= o_.height) {
      throw KernelFault(700);  // cudaErrorIllegalAddress
    }
    return const_cast<uint8_t*>(o_.base) + uint64_t(y) * o_.pitch + uint64_t(x_bytes);
  }
  rcuda_test_sampled_object o_{};
};

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
  } catch (const KernelFault& f) {
    return f.code;
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
