// The driver API's stream and event queries, waits and host callbacks,
// forwarded through rcuda's libcudart (CUstream and CUevent are the
// runtime's cudaStream_t and cudaEvent_t; CU_STREAM_LEGACY and
// CU_STREAM_PER_THREAD have the runtime's values).
#include <cuda.h>
#include <cuda_runtime_api.h>

#include <new>

#include "client/driver/driver_state.h"
#include "client/driver/driver_unsupported.h"

using namespace rcuda::client::driver;

namespace {

cudaStream_t Stream(CUstream s) { return reinterpret_cast<cudaStream_t>(s); }
cudaEvent_t Event(CUevent e) { return reinterpret_cast<cudaEvent_t>(e); }

// cuStreamAddCallback's callback takes driver types: called from the
// runtime's callback with the stream and the status converted back.
struct DriverCallback {
  CUstreamCallback callback;
  void* data;
};

void CUDART_CB RunDriverCallback(cudaStream_t stream, cudaError_t status, void* data) {
  auto* cb = static_cast<DriverCallback*>(data);
  cb->callback(reinterpret_cast<CUstream>(stream), FromRuntime(status), cb->data);
  delete cb;
}

}  // namespace

extern "C" {

RCUDA_DRIVER_EXPORT CUresult cuStreamCreateWithPriority(CUstream* stream, unsigned int flags, int priority) {
  RCUDA_DRIVER_REQUIRE_INIT();
  if (!stream) return CUDA_ERROR_INVALID_VALUE;
  cudaStream_t s = nullptr;
  if (cudaError_t e = cudaStreamCreateWithPriority(&s, flags, priority)) return FromRuntime(e);
  Remember(ContextResource::kStream, s);
  *stream = reinterpret_cast<CUstream>(s);
  return CUDA_SUCCESS;
}

RCUDA_DRIVER_EXPORT CUresult cuStreamQuery(CUstream s) {
  RCUDA_DRIVER_REQUIRE_INIT();
  return FromRuntime(cudaStreamQuery(Stream(s)));
}

RCUDA_DRIVER_EXPORT CUresult cuStreamWaitEvent(CUstream s, CUevent event, unsigned int flags) {
  RCUDA_DRIVER_REQUIRE_INIT();
  return FromRuntime(cudaStreamWaitEvent(Stream(s), Event(event), flags));
}

RCUDA_DRIVER_EXPORT CUresult cuEventQuery(CUevent event) {
  RCUDA_DRIVER_REQUIRE_INIT();
  return FromRuntime(cudaEventQuery(Event(event)));
}

RCUDA_DRIVER_EXPORT CUresult cuLaunchHostFunc(CUstream s, CUhostFn fn, void* data) {
  RCUDA_DRIVER_REQUIRE_INIT();
  return FromRuntime(cudaLaunchHostFunc(Stream(s), fn, data));
}

RCUDA_DRIVER_EXPORT CUresult cuStreamAddCallback(CUstream s, CUstreamCallback callback, void* data,
                                                 unsigned int flags) {
  RCUDA_DRIVER_REQUIRE_INIT();
  if (!callback || flags != 0) return CUDA_ERROR_INVALID_VALUE;
  auto* cb = new (std::nothrow) DriverCallback{callback, data};
  if (!cb) return CUDA_ERROR_OUT_OF_MEMORY;
  cudaError_t e = cudaStreamAddCallback(Stream(s), RunDriverCallback, cb, 0);
  if (e != cudaSuccess) delete cb;  // never queued, never called
  return FromRuntime(e);
}

}  // extern "C"
