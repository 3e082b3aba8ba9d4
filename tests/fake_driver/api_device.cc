// TEST EQUIPMENT: the fake CUDA driver's initialization, devices, primary
// contexts, limits and error names.
#include <algorithm>
#include <cstring>

#include "tests/fake_driver/call_counts.h"
#include "tests/fake_driver/device_memory.h"
#include "tests/fake_driver/device_printf.h"
#include "tests/fake_driver/entry_points.h"
#include "tests/fake_driver/fake_gpu.h"
#include "tests/fake_driver/memory_pool.h"
#include "tests/fake_driver/stream_engine.h"

namespace fake {
namespace {

struct ResultName {
  int value;
  const char* name;
  const char* text;
};

constexpr ResultName kResults[] = {
#define X(value, name, text) {value, name, text},
#include "cuda_results.inc"
#undef X
};

const ResultName* FindResult(CUresult r) {
  for (const auto& e : kResults)
    if (e.value == static_cast<int>(r)) return &e;
  return nullptr;
}

bool Attribute(CUdevice_attribute attribute, int ordinal, int* value) {
  switch (attribute) {
#define FAKE_ATTRIBUTE(name, v)      \
  case CU_DEVICE_ATTRIBUTE_##name: \
    *value = (v);                    \
    return true;
#include "tests/fake_driver/device_attributes.inc"
#undef FAKE_ATTRIBUTE
    default:
      return false;
  }
}

void ResetLimits(Context* ctx) {
  ctx->limits.fill(0);
  ctx->limits[CU_LIMIT_STACK_SIZE] = 1024;
  ctx->limits[CU_LIMIT_PRINTF_FIFO_SIZE] = 1 << 20;
  ctx->limits[CU_LIMIT_MALLOC_HEAP_SIZE] = 8 << 20;
  ctx->limits[CU_LIMIT_DEV_RUNTIME_SYNC_DEPTH] = 2;
  ctx->limits[CU_LIMIT_DEV_RUNTIME_PENDING_LAUNCH_COUNT] = 2048;
  ctx->limits[CU_LIMIT_MAX_L2_FETCH_GRANULARITY] = 64;
  ctx->limits[CU_LIMIT_PERSISTING_L2_CACHE_SIZE] = 0;
  ctx->limits[CU_LIMIT_SHMEM_SIZE] = gpu::kSharedPerBlockOptin;
  ctx->limits[CU_LIMIT_CIG_ENABLED] = 0;
  ctx->limits[CU_LIMIT_CIG_SHMEM_FALLBACK_ENABLED] = 0;
}

// The last release of a primary context destroys what it holds, as the
// driver does: its work is drained, its streams and device memory freed.
// Libraries (context-independent) and their variables stay.
void Deactivate(std::unique_lock<std::mutex>& lock, Device* dev) {
  Driver& d = D();
  Context* ctx = &dev->primary;
  d.cv.wait(lock, [&] {
    for (const auto& c : ContextTargets(ctx))
      if (Pending(c)) return false;
    return true;
  });
  for (Stream* s : ctx->streams)
    if (!s->destroyed) DestroyStream(s);
  d.cv.wait(lock, [&] {
    return std::all_of(ctx->streams.begin(), ctx->streams.end(), [](Stream* s) { return s->exited; });
  });
  ReapStreams(ctx);
  std::vector<Allocation> owned;
  d.device_memory.ForEach([&](const Allocation& a) {
    if (a.device == dev->ordinal && a.kind != Allocation::Kind::kVariable) owned.push_back(a);
  });
  for (const auto& a : owned) ReleaseAllocation(a);
  for (MemoryPool* pool : dev->pools) TrimPool(pool, 0);
  ctx->active = false;
  FlushedAt(lock, ctx, CUDA_SUCCESS);  // the context's end is a synchronization point
}

}  // namespace

CUresult cuInit(unsigned int flags) {
  if (flags != 0) return CUDA_ERROR_INVALID_VALUE;
  std::lock_guard lock(D().mu);
  return Initialize();
}

CUresult cuDriverGetVersion(int* version) {
  if (!version) return CUDA_ERROR_INVALID_VALUE;
  *version = gpu::kDriverVersion;
  return CUDA_SUCCESS;
}

CUresult cuDeviceGet(CUdevice* device, int ordinal) {
  std::lock_guard lock(D().mu);
  if (!device) return CUDA_ERROR_INVALID_VALUE;
  Device* dev;
  CUresult r = DeviceOf(ordinal, &dev);
  if (r != CUDA_SUCCESS) return r;
  *device = ordinal;
  return CUDA_SUCCESS;
}

CUresult cuDeviceGetCount(int* count) {
  std::lock_guard lock(D().mu);
  if (!count) return CUDA_ERROR_INVALID_VALUE;
  if (!D().initialized) return CUDA_ERROR_NOT_INITIALIZED;
  *count = static_cast<int>(D().devices.size());
  return CUDA_SUCCESS;
}

CUresult cuDeviceGetName(char* name, int length, CUdevice device) {
  std::lock_guard lock(D().mu);
  Device* dev;
  CUresult r = DeviceOf(device, &dev);
  if (r != CUDA_SUCCESS) return r;
  if (!name || length <= 0) return CUDA_ERROR_INVALID_VALUE;
  std::strncpy(name, gpu::kName, length - 1);
  name[length - 1] = '\0';
  return CUDA_SUCCESS;
}

CUresult cuDeviceGetUuid(CUuuid* uuid, CUdevice device) {
  std::lock_guard lock(D().mu);
  Device* dev;
  CUresult r = DeviceOf(device, &dev);
  if (r != CUDA_SUCCESS) return r;
  if (!uuid) return CUDA_ERROR_INVALID_VALUE;
  std::memset(uuid->bytes, 0, sizeof uuid->bytes);
  std::memcpy(uuid->bytes, "rcuda-FAKE-gpu", 14);
  uuid->bytes[15] = static_cast<char>(device);
  return CUDA_SUCCESS;
}

CUresult cuDeviceTotalMem(size_t* bytes, CUdevice device) {
  std::lock_guard lock(D().mu);
  Device* dev;
  CUresult r = DeviceOf(device, &dev);
  if (r != CUDA_SUCCESS) return r;
  if (!bytes) return CUDA_ERROR_INVALID_VALUE;
  *bytes = dev->total_memory;
  return CUDA_SUCCESS;
}

CUresult cuDeviceGetAttribute(int* value, CUdevice_attribute attribute, CUdevice device) {
  std::lock_guard lock(D().mu);
  Device* dev;
  CUresult r = DeviceOf(device, &dev);
  if (r != CUDA_SUCCESS) return r;
  if (!value) return CUDA_ERROR_INVALID_VALUE;
  return Attribute(attribute, dev->ordinal, value) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

CUresult cuDevicePrimaryCtxRetain(CUcontext* context, CUdevice device) {
  std::lock_guard lock(D().mu);
  Device* dev;
  CUresult r = DeviceOf(device, &dev);
  if (r != CUDA_SUCCESS) return r;
  if (!context) return CUDA_ERROR_INVALID_VALUE;
  Context* ctx = &dev->primary;
  if (!ctx->active) {
    ctx->active = true;
    ctx->sticky = 0;
    ctx->cache_config = CU_FUNC_CACHE_PREFER_NONE;
    ResetLimits(ctx);
    if (!ctx->legacy) ctx->legacy = CreateStream(ctx, 0, 0, /*legacy=*/true);
    DefaultPool(dev);
  }
  ++ctx->retained;
  *context = reinterpret_cast<CUcontext>(ctx);
  return CUDA_SUCCESS;
}

CUresult cuDevicePrimaryCtxRelease(CUdevice device) {
  std::unique_lock lock(D().mu);
  Device* dev;
  CUresult r = DeviceOf(device, &dev);
  if (r != CUDA_SUCCESS) return r;
  Context* ctx = &dev->primary;
  if (ctx->retained == 0) return CUDA_ERROR_INVALID_CONTEXT;
  if (--ctx->retained == 0) Deactivate(lock, dev);
  return CUDA_SUCCESS;
}

CUresult cuCtxSetCurrent(CUcontext context) {
  std::lock_guard lock(D().mu);
  if (!D().initialized) return CUDA_ERROR_NOT_INITIALIZED;
  auto* ctx = reinterpret_cast<Context*>(context);
  if (ctx) {
    bool known = std::any_of(D().devices.begin(), D().devices.end(),
                             [&](const std::unique_ptr<Device>& dev) { return &dev->primary == ctx; });
    if (!known) return CUDA_ERROR_INVALID_CONTEXT;
  }
  SetCurrentContext(ctx);
  return CUDA_SUCCESS;
}

CUresult cuCtxSynchronize() {
  std::unique_lock lock(D().mu);
  Context* ctx;
  CUresult r = UsableContext(&ctx);
  if (r != CUDA_SUCCESS) return r;
  std::vector<CompletionRef> targets = ContextTargets(ctx);
  if (!targets.empty()) CountCall(kSpinningWaits);
  r = WaitAll(lock, ctx, targets);
  ReapStreams(ctx);
  ReleaseAboveThreshold(ctx->device);
  return FlushedAt(lock, ctx, r);
}

CUresult cuCtxGetLimit(size_t* value, CUlimit limit) {
  std::lock_guard lock(D().mu);
  Context* ctx;
  CUresult r = UsableContext(&ctx);
  if (r != CUDA_SUCCESS) return r;
  if (!value) return CUDA_ERROR_INVALID_VALUE;
  if (limit < 0 || limit >= CU_LIMIT_MAX) return CUDA_ERROR_UNSUPPORTED_LIMIT;
  *value = ctx->limits[limit];
  return CUDA_SUCCESS;
}

CUresult cuCtxSetLimit(CUlimit limit, size_t value) {
  std::lock_guard lock(D().mu);
  Context* ctx;
  CUresult r = UsableContext(&ctx);
  if (r != CUDA_SUCCESS) return r;
  switch (limit) {
    case CU_LIMIT_STACK_SIZE:
    case CU_LIMIT_PRINTF_FIFO_SIZE:
    case CU_LIMIT_MALLOC_HEAP_SIZE:
    case CU_LIMIT_DEV_RUNTIME_SYNC_DEPTH:
    case CU_LIMIT_DEV_RUNTIME_PENDING_LAUNCH_COUNT:
      break;
    case CU_LIMIT_MAX_L2_FETCH_GRANULARITY:
      if (value > 128) return CUDA_ERROR_INVALID_VALUE;
      break;
    case CU_LIMIT_PERSISTING_L2_CACHE_SIZE:
      if (value > static_cast<size_t>(gpu::kMaxPersistingL2)) return CUDA_ERROR_INVALID_VALUE;
      break;
    case CU_LIMIT_CIG_SHMEM_FALLBACK_ENABLED:
      if (value > 1) return CUDA_ERROR_INVALID_VALUE;
      break;
    case CU_LIMIT_SHMEM_SIZE:
    case CU_LIMIT_CIG_ENABLED:
      return CUDA_ERROR_INVALID_VALUE;  // query only
    default:
      return CUDA_ERROR_UNSUPPORTED_LIMIT;
  }
  ctx->limits[limit] = value;
  return CUDA_SUCCESS;
}

CUresult cuCtxGetCacheConfig(CUfunc_cache* config) {
  std::lock_guard lock(D().mu);
  Context* ctx;
  CUresult r = UsableContext(&ctx);
  if (r != CUDA_SUCCESS) return r;
  if (!config) return CUDA_ERROR_INVALID_VALUE;
  *config = ctx->cache_config;
  return CUDA_SUCCESS;
}

CUresult cuCtxSetCacheConfig(CUfunc_cache config) {
  std::lock_guard lock(D().mu);
  Context* ctx;
  CUresult r = UsableContext(&ctx);
  if (r != CUDA_SUCCESS) return r;
  if (config < CU_FUNC_CACHE_PREFER_NONE || config > CU_FUNC_CACHE_PREFER_EQUAL) return CUDA_ERROR_INVALID_VALUE;
  ctx->cache_config = config;
  return CUDA_SUCCESS;
}

CUresult cuCtxGetStreamPriorityRange(int* least, int* greatest) {
  std::lock_guard lock(D().mu);
  Context* ctx;
  CUresult r = UsableContext(&ctx);
  if (r != CUDA_SUCCESS) return r;
  if (least) *least = gpu::kStreamPriorityLeast;
  if (greatest) *greatest = gpu::kStreamPriorityGreatest;
  return CUDA_SUCCESS;
}

// No profiling tool is attached to the fake: starting and stopping its
// collection only needs a usable context, as with the driver.
CUresult cuProfilerStart() {
  std::lock_guard lock(D().mu);
  Context* ctx;
  return UsableContext(&ctx);
}

CUresult cuProfilerStop() {
  std::lock_guard lock(D().mu);
  Context* ctx;
  return UsableContext(&ctx);
}

CUresult cuGetErrorName(CUresult error, const char** name) {
  if (!name) return CUDA_ERROR_INVALID_VALUE;
  const ResultName* e = FindResult(error);
  *name = e ? e->name : nullptr;
  return e ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

CUresult cuGetErrorString(CUresult error, const char** text) {
  if (!text) return CUDA_ERROR_INVALID_VALUE;
  const ResultName* e = FindResult(error);
  *text = e ? e->text : nullptr;
  return e ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

}  // namespace fake
