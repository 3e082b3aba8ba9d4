// CudaExecutor: the driver, the device and the session's context. The other
// areas are in cuda_executor_*.cc (see cuda_executor.h).
#include "server/cuda_executor.h"

#include "server/device_props.h"

namespace rcuda {

CudaExecutor::CudaExecutor(const ExecutorOptions& options)
    : options_(options), host_budget_(options.host_staging_bytes), pinned_pool_(&host_budget_) {}

// The worker process is the session: this runs as it ends, on the session
// thread, after the last request.
CudaExecutor::~CudaExecutor() NO_THREAD_SAFETY_ANALYSIS {
  if (!context_) return;
  for (auto& s : download_staging_) {
    if (s.event) drv_.cuEventDestroy(s.event);
    if (s.host) drv_.cuMemFreeHost(s.host);
  }
  drv_.cuCtxSynchronize();
  wait_events_->Close();
  if (wait_stream_) drv_.cuStreamDestroy(wait_stream_);
  pinned_pool_.FreeAll(drv_);
  for (auto& b : upload_free_) {
    drv_.cuEventDestroy(b.event);
    drv_.cuMemFreeHost(b.host);
  }
  for (auto& b : upload_busy_) {
    drv_.cuEventDestroy(b.event);
    drv_.cuMemFreeHost(b.host);
  }
  for (uint64_t t : textures_) drv_.cuTexObjectDestroy(t);
  for (uint64_t t : surfaces_) drv_.cuSurfObjectDestroy(t);
  for (auto& [handle, a] : arrays_) drv_.cuArrayDestroy(a.array);
  for (auto& [id, lib] : libraries_) drv_.cuLibraryUnload(lib);
  drv_.cuDevicePrimaryCtxRelease(device_);
}

Status CudaExecutor::Open(int gpu) {
  RCUDA_RETURN_IF_ERROR(drv_.Load(options_.driver_library));
  CUresult r = drv_.cuInit(0);
  if (r != CUDA_SUCCESS) return drv_.Error(r, "cuInit");
  int count = 0;
  drv_.cuDeviceGetCount(&count);
  if (gpu < 0 || gpu >= count) {
    return Status::Cuda(kCudaErrorInvalidDevice, "GPU " + std::to_string(gpu) + " requested, this server has " + std::to_string(count));
  }
  if ((r = drv_.cuDeviceGet(&device_, gpu)) != CUDA_SUCCESS) return drv_.Error(r, "cuDeviceGet");
  // The primary context, as the runtime uses: one per process, and the
  // worker process is the session.
  if ((r = drv_.cuDevicePrimaryCtxRetain(&context_, device_)) != CUDA_SUCCESS) {
    return drv_.Error(r, "cuDevicePrimaryCtxRetain");
  }
  if ((r = drv_.cuCtxSetCurrent(context_)) != CUDA_SUCCESS) return drv_.Error(r, "cuCtxSetCurrent");
  for (auto& s : download_staging_) {
    if ((r = drv_.cuMemHostAlloc(&s.host, kStagingChunk, 0)) != CUDA_SUCCESS) return drv_.Error(r, "cuMemHostAlloc");
    if ((r = drv_.cuEventCreate(&s.event, CU_EVENT_DISABLE_TIMING)) != CUDA_SUCCESS) {
      return drv_.Error(r, "cuEventCreate");
    }
  }
  return Status::Ok();
}

Status CudaExecutor::Describe(DeviceDescription* d) {
  std::vector<int32_t> attrs(kDeviceAttributeSlots, 0);
  for (int a = 1; a < kDeviceAttributeSlots; ++a) {
    int value = 0;
    if (drv_.cuDeviceGetAttribute(&value, static_cast<CUdevice_attribute>(a), device_) == CUDA_SUCCESS) {
      attrs[a] = value;
    }
  }
  char name[256] = {};
  drv_.cuDeviceGetName(name, sizeof name - 1, device_);
  CUuuid uuid{};
  drv_.cuDeviceGetUuid(&uuid, device_);
  size_t total = 0;
  drv_.cuDeviceTotalMem(&total, device_);
  int version = 0;
  drv_.cuDriverGetVersion(&version);
  d->name = name;
  d->attributes = attrs;
  d->props = BuildDeviceProp(attrs, d->name, reinterpret_cast<const uint8_t*>(uuid.bytes), total);
  d->driver_version = version;
  // The test backend's driver is TEST EQUIPMENT: the client says so to the
  // program's user (DeviceInfo.test_device).
  d->backend = options_.backend;
  d->test_device = options_.backend == "test";
  d->arch = static_cast<uint32_t>(attrs[CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR] * 10 +
                                  attrs[CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR]);
  d->total_memory = total;
  return Status::Ok();
}

Status CudaExecutor::Synchronize() { return Check(drv_.cuCtxSynchronize(), "cuCtxSynchronize"); }

Status CudaExecutor::Check(CUresult r, const char* what) const {
  return r == CUDA_SUCCESS ? Status::Ok() : drv_.Error(r, what);
}

std::unique_ptr<Executor> NewCudaExecutor(const ExecutorOptions& options) {
  return std::make_unique<CudaExecutor>(options);
}

}  // namespace rcuda
