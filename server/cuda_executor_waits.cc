// CudaExecutor: waiting for the GPU without holding up the session, and at
// the cost the program's own call has natively (cuda_executor.h).
//
// A synchronizing request (device, stream or event) is answered by the
// session worker in one of two ways (SessionWorker::WaitThenReply):
//   - the work is done (the common case: the network is slower than short
//     kernels): Query found it so, and SettleWait makes the program's own
//     synchronizing call, which returns at once. That call is where the
//     driver writes the device's printf output (server/device_output.h),
//     and where the stream-ordered allocator learns of frees (below); a
//     query does neither.
//   - the work still runs: PrepareWait records blocking-sync events where
//     the wait must end, and a thread of the wait pool sleeps in
//     cuEventSynchronize on them instead of spinning a core in
//     cuStreamSynchronize or cuCtxSynchronize (server/wait_events.h).
#include "server/cuda_executor.h"

namespace rcuda {
namespace {

// A device wait with more busy streams than this waits in cuCtxSynchronize
// alone (spinning, as before) rather than take an event per stream.
constexpr size_t kMaxWaitMarks = 16;

}  // namespace

Status CudaExecutor::Query(WaitTarget target, uint64_t handle) {
  if (target == WaitTarget::kStream) return StreamQuery(handle);
  if (target == WaitTarget::kEvent) return EventQuery(handle);
  // The device: every stream, the legacy one included.
  RCUDA_RETURN_IF_ERROR(Check(drv_.cuStreamQuery(CU_STREAM_LEGACY), "cuStreamQuery"));
  for (const auto& [h, s] : streams_) RCUDA_RETURN_IF_ERROR(Check(drv_.cuStreamQuery(s), "cuStreamQuery"));
  return Status::Ok();
}

Status CudaExecutor::SettleWait(WaitTarget target, uint64_t handle) {
  // Query found the work done, errors included (a fault is sticky: the
  // query returns it as the synchronization would), and answered for the
  // program's call: one driver call, as natively. The synchronizing call is
  // still made, on idle work, for what only it does:
  // - after a launch: the driver writes the device's printf buffer to
  //   stdout there (and at the other synchronization points CUDA
  //   documents), never at a query;
  // - stream-ordered frees since the session was last seen idle: the
  //   driver's allocator learns at a synchronizing call (stream, event or
  //   context) that their memory is idle. There it releases what pools hold
  //   above their release threshold, and only then can cuMemPoolTrimTo trim
  //   it; after a mere query it keeps it. Frees still queued on a busy
  //   stream are released only by a later synchronization: the mark stays
  //   until one finds the whole session idle (Query first: a stream that was
  //   idle before the call has its frees covered by it).
  if (!pool_release_pending_ && !launched_since_sync_) return Status::Ok();
  launched_since_sync_ = false;
  bool covers_all = pool_release_pending_ &&
                    (target == WaitTarget::kDevice ||
                     (!pool_frees_on_destroyed_stream_ && Query(WaitTarget::kDevice, 0).ok()));
  Status s;
  switch (target) {
    case WaitTarget::kDevice: s = Synchronize(); break;
    case WaitTarget::kStream: s = StreamSynchronize(handle); break;
    case WaitTarget::kEvent: s = EventSynchronize(handle); break;
  }
  if (s.ok() && covers_all) {
    pool_release_pending_ = false;
    pool_frees_on_destroyed_stream_ = false;
  }
  return s;
}

Status CudaExecutor::WaitStream(CUstream* stream) {
  if (!wait_stream_) {
    RCUDA_RETURN_IF_ERROR(Check(drv_.cuStreamCreateWithPriority(&wait_stream_, CU_STREAM_NON_BLOCKING, 0),
                                "cuStreamCreateWithPriority"));
  }
  *stream = wait_stream_;
  return Status::Ok();
}

Status CudaExecutor::WaitMarks(WaitTarget target, uint64_t handle, std::vector<CUstream>* marks, CUevent* event) {
  if (target == WaitTarget::kStream) {
    CUstream s = nullptr;
    RCUDA_RETURN_IF_ERROR(StreamOf(handle, &s));
    marks->push_back(s);
    return Status::Ok();
  }
  if (target == WaitTarget::kEvent) {
    RCUDA_RETURN_IF_ERROR(EventOf(handle, event));
    if (blocking_events_.count(handle)) return Status::Ok();  // the program's own event sleeps
    // An ordinary event spins: the private stream waits for it, and a
    // blocking event recorded there completes when it does.
    CUstream ws = nullptr;
    RCUDA_RETURN_IF_ERROR(WaitStream(&ws));
    RCUDA_RETURN_IF_ERROR(Check(drv_.cuStreamWaitEvent(ws, *event, 0), "cuStreamWaitEvent"));
    marks->push_back(ws);
    return Status::Ok();
  }
  // The device: a record on the legacy stream comes after the earlier work
  // of every blocking stream (legacy semantics); any other stream still busy
  // (a non-blocking one) gets its own. The closing cuCtxSynchronize covers
  // the rest (streams destroyed with work queued).
  marks->push_back(CU_STREAM_LEGACY);
  for (const auto& [h, s] : streams_) {
    CUresult r = drv_.cuStreamQuery(s);
    if (r == CUDA_ERROR_NOT_READY) marks->push_back(s);
    else if (r != CUDA_SUCCESS) return Check(r, "cuStreamQuery");
  }
  if (marks->size() > kMaxWaitMarks) marks->clear();
  return Status::Ok();
}

Status CudaExecutor::PrepareWait(WaitTarget target, uint64_t handle, std::function<Status()>* wait) {
  launched_since_sync_ = false;  // the wait ends in a synchronizing call
  std::vector<CUstream> marks;
  CUevent program_event = nullptr;
  RCUDA_RETURN_IF_ERROR(WaitMarks(target, handle, &marks, &program_event));
  // Recorded here, on the session thread: the wait ends at the request's
  // point in stream order, whatever the session queues meanwhile.
  std::vector<CUevent> events;
  Status s;
  for (CUstream stream : marks) {
    CUevent e = nullptr;
    if (!(s = wait_events_->Take(&e)).ok()) break;
    if (!(s = Check(drv_.cuEventRecord(e, stream), "cuEventRecord")).ok()) {
      wait_events_->Give(e);
      break;
    }
    events.push_back(e);
  }
  if (!s.ok()) {
    for (CUevent e : events) wait_events_->Give(e);
    return s;
  }
  // The wait runs on a thread of the wait pool: it captures driver handles,
  // never the executor's maps, and makes the context current there first.
  const CudaDriver* drv = &drv_;
  CUcontext ctx = context_;
  *wait = [drv, ctx, target, program_event, events = std::move(events), cache = wait_events_] {
    drv->cuCtxSetCurrent(ctx);
    CUresult r = CUDA_SUCCESS;
    for (CUevent e : events) {
      CUresult q = drv->cuEventSynchronize(e);
      if (r == CUDA_SUCCESS) r = q;
    }
    for (CUevent e : events) cache->Give(e);
    if (r != CUDA_SUCCESS) return drv->Error(r, "cuEventSynchronize");
    // Done. A stream's wait ends here: its event's synchronization was the
    // synchronizing call, and a fault shows in it. The program's event and
    // the device get their own call, which now returns at once (and for the
    // device covers what the events did not).
    if (target == WaitTarget::kEvent) {
      r = drv->cuEventSynchronize(program_event);
      return r == CUDA_SUCCESS ? Status::Ok() : drv->Error(r, "cuEventSynchronize");
    }
    if (target == WaitTarget::kDevice) {
      r = drv->cuCtxSynchronize();
      return r == CUDA_SUCCESS ? Status::Ok() : drv->Error(r, "cuCtxSynchronize");
    }
    return Status::Ok();
  };
  return Status::Ok();
}

}  // namespace rcuda
