// CudaExecutor: host memory the client shares with the worker (pinned
// segments over the shared-memory transport), registered with the driver so
// that copies from and to it are the GPU's DMA, with no staging and no copy
// by the CPU.
#include "server/cuda_executor.h"

namespace rcuda {

Status CudaExecutor::RegisterHostMemory(void* host, uint64_t size) {
  // DEVICEMAP: mapped pinned memory (cudaHostGetDevicePointer) needs it;
  // PORTABLE: every context of the process sees it pinned.
  return Check(drv_.cuMemHostRegister(host, size, CU_MEMHOSTREGISTER_PORTABLE | CU_MEMHOSTREGISTER_DEVICEMAP),
               "cuMemHostRegister");
}

Status CudaExecutor::UnregisterHostMemory(void* host) {
  // Work queued on the memory must be done before it goes (cudaFreeHost
  // synchronizes too); the driver's unregister does not promise to wait.
  Status synced = Check(drv_.cuCtxSynchronize(), "cuCtxSynchronize");
  Status unregistered = Check(drv_.cuMemHostUnregister(host), "cuMemHostUnregister");
  return synced.ok() ? unregistered : synced;
}

Status CudaExecutor::CopyRegistered(uint64_t device, void* host, uint64_t size, bool to_device, uint64_t stream,
                                    bool wait) {
  CUstream s = nullptr;
  RCUDA_RETURN_IF_ERROR(StreamOf(stream, &s));
  CUresult r = to_device ? drv_.cuMemcpyHtoDAsync(device, host, size, s) : drv_.cuMemcpyDtoHAsync(host, device, size, s);
  RCUDA_RETURN_IF_ERROR(Check(r, to_device ? "cuMemcpyHtoDAsync" : "cuMemcpyDtoHAsync"));
  if (!wait) return Status::Ok();
  return Check(drv_.cuStreamSynchronize(s), "cuStreamSynchronize");
}

Status CudaExecutor::RegisteredDevicePointer(void* host, uint64_t* device) {
  CUdeviceptr p = 0;
  RCUDA_RETURN_IF_ERROR(Check(drv_.cuMemHostGetDevicePointer(&p, host, 0), "cuMemHostGetDevicePointer"));
  *device = p;
  return Status::Ok();
}

}  // namespace rcuda
