// The driver API's contexts. The worker has one context per device of the
// session, which the runtime uses; the driver API's contexts map onto it:
//   - a device's primary context is that context (retain/release only check
//     their arguments: it lives as long as the session);
//   - cuCtxCreate makes a context of its own handle on the same worker
//     context. What the driver API makes while it is current (device and
//     host memory, modules, streams, events) is recorded in it and released
//     by cuCtxDestroy, so a program that creates, uses and destroys a
//     context, as most driver-API programs do, leaks nothing. Two contexts
//     of one device share its memory: the isolation two native contexts
//     would have is not provided (docs/design.md).
// The current context is per thread, with the push/pop stack; making a
// context current makes its device the runtime's current device.
#include <cuda.h>

// cuda.h maps these names to their newer versions; both are exports.
#undef cuDevicePrimaryCtxRelease
#undef cuCtxPushCurrent
#undef cuCtxPopCurrent
#undef cuCtxCreate
#undef cuCtxDestroy
#include <cuda_runtime_api.h>

#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

#include "client/driver/driver_state.h"
#include "client/driver/driver_unsupported.h"
#include "common/mutex.h"

extern "C" CUresult cuModuleUnload(CUmodule module);

namespace rcuda::client::driver {
namespace {

constexpr int kMaxDevices = 64;
// A primary context's handle is the address of its slot (its device is the
// slot's index): stable, never freed, no state to guard.
struct ContextSlot { char unused; };
ContextSlot g_primary[kMaxDevices];

struct CreatedContext {
  int device;
  std::vector<std::pair<ContextResource, const void*>> resources;
};

rcuda::Mutex g_mu;
// Live created contexts. Leaked on purpose: used until the process ends.
std::vector<std::unique_ptr<CreatedContext>>* const g_created PT_GUARDED_BY(g_mu) =
    new std::vector<std::unique_ptr<CreatedContext>>;

constexpr size_t kMaxContextStack = 64;
thread_local CUcontext t_stack[kMaxContextStack];
thread_local size_t t_depth = 0;
// The calling thread's current context; nullptr: the primary context of the
// runtime's current device (a thread that never chose one).
thread_local CUcontext t_current = nullptr;

CreatedContext* FindCreatedLocked(CUcontext handle) REQUIRES(g_mu) {
  for (auto& c : *g_created)
    if (reinterpret_cast<CUcontext>(c.get()) == handle) return c.get();
  return nullptr;
}

CUcontext Current() {
  if (t_current && ContextDevice(t_current) >= 0) return t_current;
  int device = 0;
  if (cudaGetDevice(&device) != cudaSuccess) return nullptr;
  return PrimaryContext(device);
}

CUresult MakeCurrent(CUcontext context) {
  int device = ContextDevice(context);
  if (device < 0) return CUDA_ERROR_INVALID_CONTEXT;
  if (cudaError_t e = cudaSetDevice(device)) return FromRuntime(e);
  t_current = context;
  return CUDA_SUCCESS;
}

void Release(ContextResource kind, const void* handle) {
  void* h = const_cast<void*>(handle);
  switch (kind) {
    case ContextResource::kDeviceMemory: cudaFree(h); break;
    case ContextResource::kHostMemory: cudaFreeHost(h); break;
    case ContextResource::kModule: cuModuleUnload(static_cast<CUmodule>(h)); break;
    case ContextResource::kStream: cudaStreamDestroy(static_cast<cudaStream_t>(h)); break;
    case ContextResource::kEvent: cudaEventDestroy(static_cast<cudaEvent_t>(h)); break;
  }
}

}  // namespace

CUcontext PrimaryContext(int device) {
  if (device < 0 || device >= kMaxDevices) return nullptr;
  return reinterpret_cast<CUcontext>(&g_primary[device]);
}

int ContextDevice(CUcontext context) {
  auto* slot = reinterpret_cast<ContextSlot*>(context);
  if (slot >= g_primary && slot < g_primary + kMaxDevices) return static_cast<int>(slot - g_primary);
  rcuda::MutexLock lock(&g_mu);
  CreatedContext* created = FindCreatedLocked(context);
  return created ? created->device : -1;
}

void Remember(ContextResource kind, const void* handle) {
  if (!t_current || !handle) return;
  rcuda::MutexLock lock(&g_mu);
  if (CreatedContext* c = FindCreatedLocked(t_current)) c->resources.emplace_back(kind, handle);
}

void Forget(ContextResource kind, const void* handle) {
  rcuda::MutexLock lock(&g_mu);
  for (auto& c : *g_created) {
    auto& r = c->resources;
    auto it = std::find(r.begin(), r.end(), std::make_pair(kind, handle));
    if (it != r.end()) {
      r.erase(it);
      return;
    }
  }
}

}  // namespace rcuda::client::driver

using namespace rcuda::client::driver;

extern "C" {

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
  if (!context) {  // unbinds: the runtime's current device's primary context is current again
    t_current = nullptr;
    return CUDA_SUCCESS;
  }
  return MakeCurrent(context);
}

RCUDA_DRIVER_EXPORT CUresult cuCtxGetCurrent(CUcontext* context) {
  RCUDA_DRIVER_REQUIRE_INIT();
  if (!context) return CUDA_ERROR_INVALID_VALUE;
  CUcontext current = Current();
  if (!current) return CUDA_ERROR_INVALID_CONTEXT;
  *context = current;
  return CUDA_SUCCESS;
}

RCUDA_DRIVER_EXPORT CUresult cuCtxGetDevice(CUdevice* device) {
  RCUDA_DRIVER_REQUIRE_INIT();
  if (!device) return CUDA_ERROR_INVALID_VALUE;
  int d = ContextDevice(Current());
  if (d < 0) return CUDA_ERROR_INVALID_CONTEXT;
  *device = d;
  return CUDA_SUCCESS;
}

RCUDA_DRIVER_EXPORT CUresult cuCtxSynchronize(void) {
  RCUDA_DRIVER_REQUIRE_INIT();
  return FromRuntime(cudaDeviceSynchronize());
}

RCUDA_DRIVER_EXPORT CUresult cuCtxPushCurrent_v2(CUcontext context) {
  RCUDA_DRIVER_REQUIRE_INIT();
  if (ContextDevice(context) < 0) return CUDA_ERROR_INVALID_CONTEXT;
  if (t_depth == kMaxContextStack) return CUDA_ERROR_OUT_OF_MEMORY;
  CUcontext below = Current();
  if (CUresult r = MakeCurrent(context)) return r;
  t_stack[t_depth++] = below;
  return CUDA_SUCCESS;
}

RCUDA_DRIVER_EXPORT CUresult cuCtxPopCurrent_v2(CUcontext* popped) {
  RCUDA_DRIVER_REQUIRE_INIT();
  if (t_depth == 0) return CUDA_ERROR_INVALID_CONTEXT;
  CUcontext current = Current();
  CUcontext below = t_stack[--t_depth];
  // A context below that was destroyed meanwhile: back to the primary one.
  if (!below || MakeCurrent(below) != CUDA_SUCCESS) t_current = nullptr;
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

// Flags: the scheduling policy (how the host thread waits: rcuda's client
// waits on its connection whatever it says), mapped host memory (always
// on) and local-memory retention (the worker driver's default) are
// accepted; the rest are refused. Execution affinity and CIG parameters
// are refused.
RCUDA_DRIVER_EXPORT CUresult cuCtxCreate_v4(CUcontext* context, CUctxCreateParams* params, unsigned int flags,
                                            CUdevice device) {
  RCUDA_DRIVER_REQUIRE_INIT();
  if (!context) return CUDA_ERROR_INVALID_VALUE;
  if (params && (params->execAffinityParams || params->numExecAffinityParams || params->cigParams)) {
    return static_cast<CUresult>(Unsupported("cuCtxCreate (execution affinity or CIG parameters)"));
  }
  if (flags & ~static_cast<unsigned>(CU_CTX_SCHED_MASK | CU_CTX_MAP_HOST | CU_CTX_LMEM_RESIZE_TO_MAX)) {
    return static_cast<CUresult>(Unsupported("cuCtxCreate (these flags)"));
  }
  if (CUresult r = CheckDevice(device)) return r;
  auto created = std::make_unique<CreatedContext>();
  created->device = device;
  CUcontext handle = reinterpret_cast<CUcontext>(created.get());
  {
    rcuda::MutexLock lock(&g_mu);
    g_created->push_back(std::move(created));
  }
  // A new context is pushed on the calling thread's stack.
  if (CUresult r = cuCtxPushCurrent_v2(handle)) {
    rcuda::MutexLock lock(&g_mu);
    g_created->pop_back();
    return r;
  }
  *context = handle;
  return CUDA_SUCCESS;
}

RCUDA_DRIVER_EXPORT CUresult cuCtxCreate_v2(CUcontext* context, unsigned int flags, CUdevice device) {
  return cuCtxCreate_v4(context, nullptr, flags, device);
}

RCUDA_DRIVER_EXPORT CUresult cuCtxCreate_v3(CUcontext* context, CUexecAffinityParam* params, int count,
                                            unsigned int flags, CUdevice device) {
  if (params || count != 0) return static_cast<CUresult>(Unsupported("cuCtxCreate (execution affinity)"));
  return cuCtxCreate_v4(context, nullptr, flags, device);
}

// Waits for the device's work, then releases what the context owns and
// forgets it; a thread whose current context it was falls back to the
// primary one. Primary contexts are not destroyed this way.
RCUDA_DRIVER_EXPORT CUresult cuCtxDestroy_v2(CUcontext context) {
  RCUDA_DRIVER_REQUIRE_INIT();
  std::unique_ptr<CreatedContext> dead;
  {
    rcuda::MutexLock lock(&g_mu);
    auto it = std::find_if(g_created->begin(), g_created->end(),
                           [&](const auto& c) { return reinterpret_cast<CUcontext>(c.get()) == context; });
    if (it == g_created->end()) return CUDA_ERROR_INVALID_CONTEXT;
    dead = std::move(*it);
    g_created->erase(it);
  }
  int previous = 0;
  cudaGetDevice(&previous);
  cudaSetDevice(dead->device);
  cudaError_t synced = cudaDeviceSynchronize();
  for (auto it = dead->resources.rbegin(); it != dead->resources.rend(); ++it) Release(it->first, it->second);
  if (t_current == context) {
    t_current = nullptr;
    if (t_depth > 0 && t_stack[t_depth - 1] != context) {
      CUcontext below = t_stack[--t_depth];
      if (MakeCurrent(below) != CUDA_SUCCESS) t_current = nullptr;
      return FromRuntime(synced);
    }
  }
  cudaSetDevice(previous);
  return FromRuntime(synced);
}

}  // extern "C"
