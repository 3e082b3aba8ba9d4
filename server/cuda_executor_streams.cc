// CudaExecutor: streams, events and host functions (cuda_executor.h); the
// waits are in cuda_executor_waits.cc. Stream and event handles
// are the executor's own numbers; stream 0 is the legacy default stream.
#include "server/cuda_executor.h"

namespace rcuda {

Status CudaExecutor::StreamOf(uint64_t handle, CUstream* stream) {
  if (handle == kLegacyStream) {
    *stream = CU_STREAM_LEGACY;
    return Status::Ok();
  }
  auto it = streams_.find(handle);
  if (it == streams_.end()) return Status::Cuda(kInvalidResourceHandle, "unknown stream");
  *stream = it->second;
  return Status::Ok();
}

Status CudaExecutor::NativeStream(uint64_t stream, void** native) {
  CUstream s = nullptr;
  RCUDA_RETURN_IF_ERROR(StreamOf(stream, &s));
  *native = s;
  return Status::Ok();
}

Status CudaExecutor::StreamHandleOf(void* native, uint64_t* stream) {
  // A library hands back the stream it was given: the legacy stream as
  // CU_STREAM_LEGACY, or 0 (the default stream, legacy in a worker).
  if (native == nullptr || native == CU_STREAM_LEGACY) {
    *stream = kLegacyStream;
    return Status::Ok();
  }
  for (const auto& [handle, s] : streams_) {
    if (s == native) {
      *stream = handle;
      return Status::Ok();
    }
  }
  return Status::Cuda(kInvalidResourceHandle, "a stream the session does not hold");
}

Status CudaExecutor::EventOf(uint64_t handle, CUevent* event) {
  auto it = events_.find(handle);
  if (it == events_.end()) return Status::Cuda(kInvalidResourceHandle, "unknown event");
  *event = it->second;
  return Status::Ok();
}

Status CudaExecutor::StreamPriorityRange(int32_t* least, int32_t* greatest) {
  int l = 0, g = 0;
  RCUDA_RETURN_IF_ERROR(Check(drv_.cuCtxGetStreamPriorityRange(&l, &g), "cuCtxGetStreamPriorityRange"));
  *least = l;
  *greatest = g;
  return Status::Ok();
}

Status CudaExecutor::StreamCreate(uint32_t flags, int32_t priority, uint64_t* stream) {
  CUstream s = nullptr;
  RCUDA_RETURN_IF_ERROR(Check(drv_.cuStreamCreateWithPriority(&s, flags, priority), "cuStreamCreateWithPriority"));
  *stream = ++next_handle_;
  streams_[*stream] = s;
  return Status::Ok();
}

Status CudaExecutor::StreamDestroy(uint64_t stream) {
  auto it = streams_.find(stream);
  if (it == streams_.end()) return Status::Cuda(kInvalidResourceHandle, "unknown stream");
  CUresult r = drv_.cuStreamDestroy(it->second);
  streams_.erase(it);
  // Its queued work still runs, frees included, out of Query's sight.
  if (pool_release_pending_) pool_frees_on_destroyed_stream_ = true;
  return Check(r, "cuStreamDestroy");
}

Status CudaExecutor::StreamSynchronize(uint64_t stream) {
  CUstream s = nullptr;
  RCUDA_RETURN_IF_ERROR(StreamOf(stream, &s));
  return Check(drv_.cuStreamSynchronize(s), "cuStreamSynchronize");
}

Status CudaExecutor::StreamQuery(uint64_t stream) {
  CUstream s = nullptr;
  RCUDA_RETURN_IF_ERROR(StreamOf(stream, &s));
  return Check(drv_.cuStreamQuery(s), "cuStreamQuery");
}

Status CudaExecutor::StreamWaitEvent(uint64_t stream, uint64_t event, uint32_t flags) {
  CUstream s = nullptr;
  CUevent e = nullptr;
  RCUDA_RETURN_IF_ERROR(StreamOf(stream, &s));
  RCUDA_RETURN_IF_ERROR(EventOf(event, &e));
  return Check(drv_.cuStreamWaitEvent(s, e, flags), "cuStreamWaitEvent");
}

Status CudaExecutor::EventCreate(uint32_t flags, uint64_t* event) {
  CUevent e = nullptr;
  RCUDA_RETURN_IF_ERROR(Check(drv_.cuEventCreate(&e, flags), "cuEventCreate"));
  *event = ++next_handle_;
  events_[*event] = e;
  if (flags & CU_EVENT_BLOCKING_SYNC) blocking_events_.insert(*event);
  return Status::Ok();
}

Status CudaExecutor::EventDestroy(uint64_t event) {
  auto it = events_.find(event);
  if (it == events_.end()) return Status::Cuda(kInvalidResourceHandle, "unknown event");
  CUresult r = drv_.cuEventDestroy(it->second);
  events_.erase(it);
  blocking_events_.erase(event);
  return Check(r, "cuEventDestroy");
}

Status CudaExecutor::EventRecord(uint64_t event, uint64_t stream, uint32_t flags) {
  CUstream s = nullptr;
  CUevent e = nullptr;
  RCUDA_RETURN_IF_ERROR(StreamOf(stream, &s));
  RCUDA_RETURN_IF_ERROR(EventOf(event, &e));
  return Check(drv_.cuEventRecordWithFlags(e, s, flags), "cuEventRecordWithFlags");
}

Status CudaExecutor::EventSynchronize(uint64_t event) {
  CUevent e = nullptr;
  RCUDA_RETURN_IF_ERROR(EventOf(event, &e));
  return Check(drv_.cuEventSynchronize(e), "cuEventSynchronize");
}

Status CudaExecutor::EventQuery(uint64_t event) {
  CUevent e = nullptr;
  RCUDA_RETURN_IF_ERROR(EventOf(event, &e));
  return Check(drv_.cuEventQuery(e), "cuEventQuery");
}

Status CudaExecutor::EventElapsedTime(uint64_t start, uint64_t end, float* ms) {
  CUevent a = nullptr, b = nullptr;
  RCUDA_RETURN_IF_ERROR(EventOf(start, &a));
  RCUDA_RETURN_IF_ERROR(EventOf(end, &b));
  return Check(drv_.cuEventElapsedTime(ms, a, b), "cuEventElapsedTime");
}

Status CudaExecutor::LaunchHostFunction(uint64_t stream, uint64_t id) {
  CUstream s = nullptr;
  RCUDA_RETURN_IF_ERROR(StreamOf(stream, &s));
  if (!host_channel_) return Status::NotSupported("no host channel");
  auto* call = new HostFunctionCall{host_channel_, id, /*once=*/true};
  CUresult r = drv_.cuLaunchHostFunc(s, &HostFunctionCall::Run, call);
  if (r != CUDA_SUCCESS) delete call;
  return Check(r, "cuLaunchHostFunc");
}

}  // namespace rcuda
