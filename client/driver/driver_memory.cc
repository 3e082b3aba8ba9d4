// The driver API's memory, stream and event calls, forwarded through rcuda's
// libcudart: the allocations are the runtime's (one memory map), CUstream
// and CUevent are the runtime's cudaStream_t and cudaEvent_t.
#include <cuda.h>

// cuda.h maps these names to their newer versions; both are exports.
#undef cuStreamDestroy
#undef cuEventDestroy
#undef cuEventElapsedTime
#include <cuda_runtime_api.h>

#include <cstring>

#include "client/driver/driver_state.h"
#include "client/driver/driver_unsupported.h"

using namespace rcuda::client::driver;

namespace {

void* Ptr(CUdeviceptr p) { return reinterpret_cast<void*>(static_cast<uintptr_t>(p)); }
cudaStream_t Stream(CUstream s) { return reinterpret_cast<cudaStream_t>(s); }
cudaEvent_t Event(CUevent e) { return reinterpret_cast<cudaEvent_t>(e); }

// cuMemsetD32 with four equal bytes is a byte memset; the others would need
// a 32-bit memset operation the protocol does not have yet.
CUresult MemsetD32(CUdeviceptr dst, unsigned value, size_t count, cudaStream_t stream, bool async) {
  unsigned char byte = value & 0xff;
  if (value != byte * 0x01010101u) return static_cast<CUresult>(Unsupported("cuMemsetD32 (a value of unequal bytes)"));
  if (count > SIZE_MAX / 4) return CUDA_ERROR_INVALID_VALUE;
  return FromRuntime(async ? cudaMemsetAsync(Ptr(dst), byte, count * 4, stream) : cudaMemset(Ptr(dst), byte, count * 4));
}

}  // namespace

extern "C" {

RCUDA_DRIVER_EXPORT CUresult cuMemAlloc_v2(CUdeviceptr* dptr, size_t bytes) {
  RCUDA_DRIVER_REQUIRE_INIT();
  if (!dptr || bytes == 0) return CUDA_ERROR_INVALID_VALUE;
  void* p = nullptr;
  if (cudaError_t e = cudaMalloc(&p, bytes)) return FromRuntime(e);
  Remember(ContextResource::kDeviceMemory, p);
  *dptr = reinterpret_cast<uintptr_t>(p);
  return CUDA_SUCCESS;
}

RCUDA_DRIVER_EXPORT CUresult cuMemFree_v2(CUdeviceptr dptr) {
  RCUDA_DRIVER_REQUIRE_INIT();
  cudaError_t e = cudaFree(Ptr(dptr));
  if (e == cudaSuccess) Forget(ContextResource::kDeviceMemory, Ptr(dptr));
  return FromRuntime(e);
}

RCUDA_DRIVER_EXPORT CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void* src, size_t bytes) {
  RCUDA_DRIVER_REQUIRE_INIT();
  return FromRuntime(cudaMemcpy(Ptr(dst), src, bytes, cudaMemcpyHostToDevice));
}
RCUDA_DRIVER_EXPORT CUresult cuMemcpyDtoH_v2(void* dst, CUdeviceptr src, size_t bytes) {
  RCUDA_DRIVER_REQUIRE_INIT();
  return FromRuntime(cudaMemcpy(dst, Ptr(src), bytes, cudaMemcpyDeviceToHost));
}
RCUDA_DRIVER_EXPORT CUresult cuMemcpyDtoD_v2(CUdeviceptr dst, CUdeviceptr src, size_t bytes) {
  RCUDA_DRIVER_REQUIRE_INIT();
  return FromRuntime(cudaMemcpy(Ptr(dst), Ptr(src), bytes, cudaMemcpyDeviceToDevice));
}
RCUDA_DRIVER_EXPORT CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void* src, size_t bytes, CUstream s) {
  RCUDA_DRIVER_REQUIRE_INIT();
  return FromRuntime(cudaMemcpyAsync(Ptr(dst), src, bytes, cudaMemcpyHostToDevice, Stream(s)));
}
RCUDA_DRIVER_EXPORT CUresult cuMemcpyDtoHAsync_v2(void* dst, CUdeviceptr src, size_t bytes, CUstream s) {
  RCUDA_DRIVER_REQUIRE_INIT();
  return FromRuntime(cudaMemcpyAsync(dst, Ptr(src), bytes, cudaMemcpyDeviceToHost, Stream(s)));
}
RCUDA_DRIVER_EXPORT CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src, size_t bytes, CUstream s) {
  RCUDA_DRIVER_REQUIRE_INIT();
  return FromRuntime(cudaMemcpyAsync(Ptr(dst), Ptr(src), bytes, cudaMemcpyDeviceToDevice, Stream(s)));
}
RCUDA_DRIVER_EXPORT CUresult cuMemsetD8_v2(CUdeviceptr dst, unsigned char value, size_t count) {
  RCUDA_DRIVER_REQUIRE_INIT();
  return FromRuntime(cudaMemset(Ptr(dst), value, count));
}
RCUDA_DRIVER_EXPORT CUresult cuMemsetD8Async(CUdeviceptr dst, unsigned char value, size_t count, CUstream s) {
  RCUDA_DRIVER_REQUIRE_INIT();
  return FromRuntime(cudaMemsetAsync(Ptr(dst), value, count, Stream(s)));
}
RCUDA_DRIVER_EXPORT CUresult cuMemsetD32_v2(CUdeviceptr dst, unsigned int value, size_t count) {
  RCUDA_DRIVER_REQUIRE_INIT();
  return MemsetD32(dst, value, count, nullptr, false);
}
RCUDA_DRIVER_EXPORT CUresult cuMemsetD32Async(CUdeviceptr dst, unsigned int value, size_t count, CUstream s) {
  RCUDA_DRIVER_REQUIRE_INIT();
  return MemsetD32(dst, value, count, Stream(s), true);
}

RCUDA_DRIVER_EXPORT CUresult cuStreamCreate(CUstream* stream, unsigned int flags) {
  RCUDA_DRIVER_REQUIRE_INIT();
  if (!stream) return CUDA_ERROR_INVALID_VALUE;
  cudaStream_t s = nullptr;
  if (cudaError_t e = cudaStreamCreateWithFlags(&s, flags)) return FromRuntime(e);
  Remember(ContextResource::kStream, s);
  *stream = reinterpret_cast<CUstream>(s);
  return CUDA_SUCCESS;
}
RCUDA_DRIVER_EXPORT CUresult cuStreamDestroy_v2(CUstream s) {
  RCUDA_DRIVER_REQUIRE_INIT();
  cudaError_t e = cudaStreamDestroy(Stream(s));
  if (e == cudaSuccess) Forget(ContextResource::kStream, s);
  return FromRuntime(e);
}
RCUDA_DRIVER_EXPORT CUresult cuStreamDestroy(CUstream s) { return cuStreamDestroy_v2(s); }
RCUDA_DRIVER_EXPORT CUresult cuStreamSynchronize(CUstream s) {
  RCUDA_DRIVER_REQUIRE_INIT();
  return FromRuntime(cudaStreamSynchronize(Stream(s)));
}

RCUDA_DRIVER_EXPORT CUresult cuEventCreate(CUevent* event, unsigned int flags) {
  RCUDA_DRIVER_REQUIRE_INIT();
  if (!event) return CUDA_ERROR_INVALID_VALUE;
  cudaEvent_t e = nullptr;
  if (cudaError_t err = cudaEventCreateWithFlags(&e, flags)) return FromRuntime(err);
  Remember(ContextResource::kEvent, e);
  *event = reinterpret_cast<CUevent>(e);
  return CUDA_SUCCESS;
}
RCUDA_DRIVER_EXPORT CUresult cuEventRecord(CUevent event, CUstream s) {
  RCUDA_DRIVER_REQUIRE_INIT();
  return FromRuntime(cudaEventRecord(Event(event), Stream(s)));
}
RCUDA_DRIVER_EXPORT CUresult cuEventSynchronize(CUevent event) {
  RCUDA_DRIVER_REQUIRE_INIT();
  return FromRuntime(cudaEventSynchronize(Event(event)));
}
RCUDA_DRIVER_EXPORT CUresult cuEventElapsedTime_v2(float* ms, CUevent start, CUevent end) {
  RCUDA_DRIVER_REQUIRE_INIT();
  return FromRuntime(cudaEventElapsedTime(ms, Event(start), Event(end)));
}
RCUDA_DRIVER_EXPORT CUresult cuEventElapsedTime(float* ms, CUevent start, CUevent end) {
  return cuEventElapsedTime_v2(ms, start, end);
}
RCUDA_DRIVER_EXPORT CUresult cuEventDestroy_v2(CUevent event) {
  RCUDA_DRIVER_REQUIRE_INIT();
  cudaError_t e = cudaEventDestroy(Event(event));
  if (e == cudaSuccess) Forget(ContextResource::kEvent, event);
  return FromRuntime(e);
}
RCUDA_DRIVER_EXPORT CUresult cuEventDestroy(CUevent event) { return cuEventDestroy_v2(event); }

}  // extern "C"
