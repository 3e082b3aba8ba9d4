// The driver API's initialization, devices and (primary) contexts, forwarded
// through rcuda's libcudart: the device is the runtime's, and the primary
// context of a device is the runtime's context on it (one session).
#include <cuda.h>

// cuda.h maps these names to their newer versions; both are exports.
#undef cuDevicePrimaryCtxRelease
#undef cuCtxPushCurrent
#undef cuCtxPopCurrent
#include <cuda_runtime_api.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "client/driver/driver_state.h"
#include "client/driver/driver_unsupported.h"
#include "client/driver/private_driver_abi.h"

namespace rcuda::client::driver {
namespace {

constexpr int kMaxDevices = 64;
// A primary context's handle is the address of its slot (its device is the
// slot's index): stable, never freed, no state to guard.
struct ContextSlot { char unused; };
ContextSlot g_contexts[kMaxDevices];
std::atomic<CUresult> g_init{CUDA_ERROR_NOT_INITIALIZED};

}  // namespace

CUresult Initialized() { return g_init.load(std::memory_order_acquire); }

CUresult FromRuntime(cudaError_t error) {
  switch (error) {
    case cudaErrorInvalidDeviceFunction: return CUDA_ERROR_INVALID_HANDLE;
    case cudaErrorInvalidSymbol: return CUDA_ERROR_NOT_FOUND;
    case cudaErrorInvalidConfiguration: return CUDA_ERROR_INVALID_VALUE;
    case cudaErrorInvalidDevicePointer: return CUDA_ERROR_INVALID_VALUE;
    case cudaErrorInvalidMemcpyDirection: return CUDA_ERROR_INVALID_VALUE;
    default: return static_cast<CUresult>(error);  // the others share their numbers
  }
}

CUcontext PrimaryContext(int device) {
  if (device < 0 || device >= kMaxDevices) return nullptr;
  return reinterpret_cast<CUcontext>(&g_contexts[device]);
}

int ContextDevice(CUcontext context) {
  auto* slot = reinterpret_cast<ContextSlot*>(context);
  if (slot < g_contexts || slot >= g_contexts + kMaxDevices) return -1;
  return static_cast<int>(slot - g_contexts);
}

}  // namespace rcuda::client::driver

using namespace rcuda::client::driver;

extern "C" {

RCUDA_DRIVER_EXPORT CUresult cuInit(unsigned int flags) {
  if (flags != 0) return CUDA_ERROR_INVALID_VALUE;
  static std::once_flag once;
  static CUresult outcome;
  std::call_once(once, [] {
    if (rcudaPrivateAbiVersion() != RCUDA_PRIVATE_ABI_VERSION) {
      std::fprintf(stderr, "rcuda: libcuda.so.1 found a libcudart.so.13 of another private ABI version\n");
      outcome = CUDA_ERROR_NOT_INITIALIZED;
      return;
    }
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    outcome = e != cudaSuccess ? FromRuntime(e) : count == 0 ? CUDA_ERROR_NO_DEVICE : CUDA_SUCCESS;
  });
  g_init.store(outcome, std::memory_order_release);
  return outcome;
}

RCUDA_DRIVER_EXPORT CUresult cuDriverGetVersion(int* version) {
  if (!version) return CUDA_ERROR_INVALID_VALUE;
  return FromRuntime(cudaDriverGetVersion(version));
}

RCUDA_DRIVER_EXPORT CUresult cuDeviceGetCount(int* count) {
  RCUDA_DRIVER_REQUIRE_INIT();
  if (!count) return CUDA_ERROR_INVALID_VALUE;
  return FromRuntime(cudaGetDeviceCount(count));
}

static CUresult CheckDevice(CUdevice device) {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || device < 0 || device >= count) return CUDA_ERROR_INVALID_DEVICE;
  return CUDA_SUCCESS;
}

RCUDA_DRIVER_EXPORT CUresult cuDeviceGet(CUdevice* device, int ordinal) {
  RCUDA_DRIVER_REQUIRE_INIT();
  if (!device) return CUDA_ERROR_INVALID_VALUE;
  if (CUresult r = CheckDevice(ordinal)) return r;
  *device = ordinal;
  return CUDA_SUCCESS;
}

RCUDA_DRIVER_EXPORT CUresult cuDeviceGetName(char* name, int length, CUdevice device) {
  RCUDA_DRIVER_REQUIRE_INIT();
  if (!name || length <= 0) return CUDA_ERROR_INVALID_VALUE;
  if (CUresult r = CheckDevice(device)) return r;
  cudaDeviceProp prop;
  if (cudaError_t e = cudaGetDeviceProperties(&prop, device)) return FromRuntime(e);
  std::strncpy(name, prop.name, length - 1);
  name[length - 1] = '\0';
  return CUDA_SUCCESS;
}

// CUdevice_attribute and cudaDeviceAttr share their numbers.
RCUDA_DRIVER_EXPORT CUresult cuDeviceGetAttribute(int* value, CUdevice_attribute attribute, CUdevice device) {
  RCUDA_DRIVER_REQUIRE_INIT();
  if (!value) return CUDA_ERROR_INVALID_VALUE;
  if (CUresult r = CheckDevice(device)) return r;
  return FromRuntime(cudaDeviceGetAttribute(value, static_cast<cudaDeviceAttr>(attribute), device));
}

RCUDA_DRIVER_EXPORT CUresult cuDeviceTotalMem_v2(size_t* bytes, CUdevice device) {
  RCUDA_DRIVER_REQUIRE_INIT();
  if (!bytes) return CUDA_ERROR_INVALID_VALUE;
  if (CUresult r = CheckDevice(device)) return r;
  cudaDeviceProp prop;
  if (cudaError_t e = cudaGetDeviceProperties(&prop, device)) return FromRuntime(e);
  *bytes = prop.totalGlobalMem;
  return CUDA_SUCCESS;
}

RCUDA_DRIVER_EXPORT CUresult cuDeviceComputeCapability(int* major, int* minor, CUdevice device) {
  RCUDA_DRIVER_REQUIRE_INIT();
  if (!major || !minor) return CUDA_ERROR_INVALID_VALUE;
  if (CUresult r = CheckDevice(device)) return r;
  if (cudaError_t e = cudaDeviceGetAttribute(major, cudaDevAttrComputeCapabilityMajor, device)) return FromRuntime(e);
  return FromRuntime(cudaDeviceGetAttribute(minor, cudaDevAttrComputeCapabilityMinor, device));
}

RCUDA_DRIVER_EXPORT CUresult cuDevicePrimaryCtxRetain(CUcontext* context, CUdevice device) {
  RCUDA_DRIVER_REQUIRE_INIT();
  if (!context) return CUDA_ERROR_INVALID_VALUE;
  if (CUresult r = CheckDevice(device)) return r;
  *context = PrimaryContext(device);
  return *context ? CUDA_SUCCESS : CUDA_ERROR_INVALID_DEVICE;
}

// The primary context lives as long as the runtime's session: a release
// only checks its argument.
RCUDA_DRIVER_EXPORT CUresult cuDevicePrimaryCtxRelease_v2(CUdevice device) {
  RCUDA_DRIVER_REQUIRE_INIT();
  return CheckDevice(device);
}
RCUDA_DRIVER_EXPORT CUresult cuDevicePrimaryCtxRelease(CUdevice device) { return cuDevicePrimaryCtxRelease_v2(device); }

RCUDA_DRIVER_EXPORT CUresult cuCtxSetCurrent(CUcontext context) {
  RCUDA_DRIVER_REQUIRE_INIT();
  if (!context) return CUDA_SUCCESS;  // the runtime's current device stays current
  int device = ContextDevice(context);
  if (device < 0) return CUDA_ERROR_INVALID_CONTEXT;
  return FromRuntime(cudaSetDevice(device));
}

RCUDA_DRIVER_EXPORT CUresult cuCtxGetCurrent(CUcontext* context) {
  RCUDA_DRIVER_REQUIRE_INIT();
  if (!context) return CUDA_ERROR_INVALID_VALUE;
  int device = 0;
  if (cudaError_t e = cudaGetDevice(&device)) return FromRuntime(e);
  *context = PrimaryContext(device);
  return CUDA_SUCCESS;
}

RCUDA_DRIVER_EXPORT CUresult cuCtxGetDevice(CUdevice* device) {
  RCUDA_DRIVER_REQUIRE_INIT();
  if (!device) return CUDA_ERROR_INVALID_VALUE;
  int current = 0;
  if (cudaError_t e = cudaGetDevice(&current)) return FromRuntime(e);
  *device = current;
  return CUDA_SUCCESS;
}

RCUDA_DRIVER_EXPORT CUresult cuCtxSynchronize(void) {
  RCUDA_DRIVER_REQUIRE_INIT();
  return FromRuntime(cudaDeviceSynchronize());
}

// The context stack of the calling thread: every context is a primary one,
// and the current context is the runtime's current device, so a push makes
// the pushed context's device current and a pop restores the one below.
namespace {
constexpr size_t kMaxContextStack = 64;
thread_local CUcontext t_stack[kMaxContextStack];
thread_local size_t t_depth = 0;
}  // namespace

RCUDA_DRIVER_EXPORT CUresult cuCtxPushCurrent_v2(CUcontext context) {
  RCUDA_DRIVER_REQUIRE_INIT();
  int device = ContextDevice(context);
  if (device < 0) return CUDA_ERROR_INVALID_CONTEXT;
  if (t_depth == kMaxContextStack) return CUDA_ERROR_OUT_OF_MEMORY;
  CUcontext below = nullptr;
  if (CUresult r = cuCtxGetCurrent(&below)) return r;
  if (cudaError_t e = cudaSetDevice(device)) return FromRuntime(e);
  t_stack[t_depth++] = below;
  return CUDA_SUCCESS;
}

RCUDA_DRIVER_EXPORT CUresult cuCtxPopCurrent_v2(CUcontext* popped) {
  RCUDA_DRIVER_REQUIRE_INIT();
  if (t_depth == 0) return CUDA_ERROR_INVALID_CONTEXT;
  CUcontext current = nullptr;
  if (CUresult r = cuCtxGetCurrent(&current)) return r;
  CUcontext below = t_stack[--t_depth];
  if (cudaError_t e = cudaSetDevice(ContextDevice(below))) return FromRuntime(e);
  if (popped) *popped = current;
  return CUDA_SUCCESS;
}

// CUlimit and cudaLimit, CUfunc_cache and cudaFuncCache share their values.
RCUDA_DRIVER_EXPORT CUresult cuCtxGetLimit(size_t* value, CUlimit limit) {
  RCUDA_DRIVER_REQUIRE_INIT();
  return FromRuntime(cudaDeviceGetLimit(value, static_cast<cudaLimit>(limit)));
}
RCUDA_DRIVER_EXPORT CUresult cuCtxSetLimit(CUlimit limit, size_t value) {
  RCUDA_DRIVER_REQUIRE_INIT();
  return FromRuntime(cudaDeviceSetLimit(static_cast<cudaLimit>(limit), value));
}
RCUDA_DRIVER_EXPORT CUresult cuCtxGetCacheConfig(CUfunc_cache* config) {
  RCUDA_DRIVER_REQUIRE_INIT();
  if (!config) return CUDA_ERROR_INVALID_VALUE;
  cudaFuncCache runtime;
  if (cudaError_t e = cudaDeviceGetCacheConfig(&runtime)) return FromRuntime(e);
  *config = static_cast<CUfunc_cache>(runtime);
  return CUDA_SUCCESS;
}
RCUDA_DRIVER_EXPORT CUresult cuCtxSetCacheConfig(CUfunc_cache config) {
  RCUDA_DRIVER_REQUIRE_INIT();
  return FromRuntime(cudaDeviceSetCacheConfig(static_cast<cudaFuncCache>(config)));
}
RCUDA_DRIVER_EXPORT CUresult cuCtxGetStreamPriorityRange(int* least, int* greatest) {
  RCUDA_DRIVER_REQUIRE_INIT();
  return FromRuntime(cudaDeviceGetStreamPriorityRange(least, greatest));
}

// cuCtxCreate is one of the generated stubs (CUDA_ERROR_NOT_SUPPORTED, logged
// once): a context other than the primary one would need a second context
// in the worker, which the session does not have.

}  // extern "C"
