// TEST EQUIPMENT: the fake CUDA driver's streams, events and host functions
// (the semantics are in stream_engine.h).
#include <algorithm>

#include "tests/fake_driver/call_counts.h"
#include "tests/fake_driver/device_printf.h"
#include "tests/fake_driver/entry_points.h"
#include "tests/fake_driver/fake_gpu.h"
#include "tests/fake_driver/memory_pool.h"
#include "tests/fake_driver/stream_engine.h"

namespace fake {
namespace {

CUresult EventOf(CUevent handle, Event** event) {
  auto* e = reinterpret_cast<Event*>(handle);
  if (!D().events.Has(e)) return CUDA_ERROR_INVALID_HANDLE;
  *event = e;
  return CUDA_SUCCESS;
}

}  // namespace

CUresult cuStreamCreateWithPriority(CUstream* stream, unsigned int flags, int priority) {
  std::lock_guard lock(D().mu);
  Context* ctx;
  CUresult r = UsableContext(&ctx);
  if (r != CUDA_SUCCESS) return r;
  if (!stream || (flags & ~CU_STREAM_NON_BLOCKING)) return CUDA_ERROR_INVALID_VALUE;
  // Out-of-range priorities are clamped, as CUDA does.
  priority = std::clamp(priority, gpu::kStreamPriorityGreatest, gpu::kStreamPriorityLeast);
  ReapStreams(ctx);
  *stream = reinterpret_cast<CUstream>(CreateStream(ctx, flags, priority, /*legacy=*/false));
  return CUDA_SUCCESS;
}

// Returns at once; work already queued still runs, as CUDA documents.
CUresult cuStreamDestroy(CUstream stream) {
  std::lock_guard lock(D().mu);
  Context* ctx;
  CUresult r = UsableContext(&ctx);
  if (r != CUDA_SUCCESS) return r;
  if (stream == nullptr || stream == CU_STREAM_LEGACY) return CUDA_ERROR_INVALID_HANDLE;
  Stream* s;
  if ((r = ResolveStream(ctx, stream, &s)) != CUDA_SUCCESS) return r;
  DestroyStream(s);
  return CUDA_SUCCESS;
}

CUresult cuStreamSynchronize(CUstream stream) {
  std::unique_lock lock(D().mu);
  Context* ctx;
  Stream* s;
  CUresult r = UsableStream(stream, &ctx, &s);
  if (r != CUDA_SUCCESS) return r;
  std::vector<CompletionRef> targets = StreamTargets(s);
  if (!targets.empty()) CountCall(s->sync_policy == CU_SYNC_POLICY_BLOCKING_SYNC ? kBlockingWaits : kSpinningWaits);
  r = WaitAll(lock, ctx, targets);
  ReleaseAboveThreshold(ctx->device);
  return FlushedAt(lock, ctx, r);
}

CUresult cuStreamQuery(CUstream stream) {
  std::lock_guard lock(D().mu);
  Context* ctx;
  Stream* s;
  CUresult r = UsableStream(stream, &ctx, &s);
  if (r != CUDA_SUCCESS) return r;
  for (const auto& c : StreamTargets(s))
    if (Pending(c)) return CUDA_ERROR_NOT_READY;
  return CUDA_SUCCESS;
}

// Stream attributes: the access policy window (checked as CUDA documents:
// a hit ratio in [0, 1], known properties, no more than the device's largest
// window), the synchronization policy and the priority (clamped).
CUresult cuStreamSetAttribute(CUstream stream, CUstreamAttrID attr, const CUstreamAttrValue* value) {
  std::lock_guard lock(D().mu);
  Context* ctx;
  Stream* s;
  CUresult r = UsableStream(stream, &ctx, &s);
  if (r != CUDA_SUCCESS) return r;
  if (!value) return CUDA_ERROR_INVALID_VALUE;
  switch (attr) {
    case CU_LAUNCH_ATTRIBUTE_ACCESS_POLICY_WINDOW: {
      const CUaccessPolicyWindow& w = value->accessPolicyWindow;
      auto known = [](CUaccessProperty p) { return p >= CU_ACCESS_PROPERTY_NORMAL && p <= CU_ACCESS_PROPERTY_PERSISTING; };
      if (!(w.hitRatio >= 0.0f && w.hitRatio <= 1.0f) || !known(w.hitProp) || !known(w.missProp) ||
          w.num_bytes > gpu::kMaxAccessPolicyWindow)
        return CUDA_ERROR_INVALID_VALUE;
      s->window = w;
      return CUDA_SUCCESS;
    }
    case CU_LAUNCH_ATTRIBUTE_SYNCHRONIZATION_POLICY:
      if (value->syncPolicy < CU_SYNC_POLICY_AUTO || value->syncPolicy > CU_SYNC_POLICY_BLOCKING_SYNC)
        return CUDA_ERROR_INVALID_VALUE;
      s->sync_policy = value->syncPolicy;
      return CUDA_SUCCESS;
    case CU_LAUNCH_ATTRIBUTE_PRIORITY:
      s->priority = std::clamp(value->priority, gpu::kStreamPriorityGreatest, gpu::kStreamPriorityLeast);
      return CUDA_SUCCESS;
    default:
      return CUDA_ERROR_INVALID_VALUE;
  }
}

CUresult cuStreamGetAttribute(CUstream stream, CUstreamAttrID attr, CUstreamAttrValue* value) {
  std::lock_guard lock(D().mu);
  Context* ctx;
  Stream* s;
  CUresult r = UsableStream(stream, &ctx, &s);
  if (r != CUDA_SUCCESS) return r;
  if (!value) return CUDA_ERROR_INVALID_VALUE;
  switch (attr) {
    case CU_LAUNCH_ATTRIBUTE_ACCESS_POLICY_WINDOW:
      value->accessPolicyWindow = s->window;
      return CUDA_SUCCESS;
    case CU_LAUNCH_ATTRIBUTE_SYNCHRONIZATION_POLICY:
      value->syncPolicy = s->sync_policy;
      return CUDA_SUCCESS;
    case CU_LAUNCH_ATTRIBUTE_PRIORITY:
      value->priority = s->priority;
      return CUDA_SUCCESS;
    default:
      return CUDA_ERROR_INVALID_VALUE;
  }
}

CUresult cuStreamCopyAttributes(CUstream dst, CUstream src) {
  std::lock_guard lock(D().mu);
  Context* ctx;
  CUresult r = UsableContext(&ctx);
  if (r != CUDA_SUCCESS) return r;
  Stream *d, *s;
  if ((r = ResolveStream(ctx, dst, &d)) != CUDA_SUCCESS || (r = ResolveStream(ctx, src, &s)) != CUDA_SUCCESS)
    return r;
  d->window = s->window;
  d->sync_policy = s->sync_policy;
  d->priority = s->priority;
  return CUDA_SUCCESS;
}

CUresult cuStreamWaitEvent(CUstream stream, CUevent event, unsigned int flags) {
  std::lock_guard lock(D().mu);
  Context* ctx;
  CUresult r = UsableContext(&ctx);
  if (r != CUDA_SUCCESS) return r;
  Stream* s;
  Event* e;
  if ((r = ResolveStream(ctx, stream, &s)) != CUDA_SUCCESS || (r = EventOf(event, &e)) != CUDA_SUCCESS) return r;
  if (flags & ~CU_EVENT_WAIT_EXTERNAL) return CUDA_ERROR_INVALID_VALUE;
  // Waiting for an event never recorded is a no-op. The point waited for is
  // the event's last record as of this call, not a later one.
  if (!Pending(e->recorded)) return CUDA_SUCCESS;
  Op op;
  op.what = "cuStreamWaitEvent";
  op.waits.push_back(e->recorded);
  Enqueue(s, std::move(op));
  return CUDA_SUCCESS;
}

CUresult cuStreamGetPriority(CUstream stream, int* priority) {
  std::lock_guard lock(D().mu);
  Context* ctx;
  Stream* s;
  CUresult r = UsableStream(stream, &ctx, &s);
  if (r != CUDA_SUCCESS) return r;
  if (!priority) return CUDA_ERROR_INVALID_VALUE;
  *priority = s->priority;
  return CUDA_SUCCESS;
}

CUresult cuStreamGetFlags(CUstream stream, unsigned int* flags) {
  std::lock_guard lock(D().mu);
  Context* ctx;
  Stream* s;
  CUresult r = UsableStream(stream, &ctx, &s);
  if (r != CUDA_SUCCESS) return r;
  if (!flags) return CUDA_ERROR_INVALID_VALUE;
  *flags = s->flags;
  return CUDA_SUCCESS;
}

CUresult cuEventCreate(CUevent* event, unsigned int flags) {
  std::lock_guard lock(D().mu);
  Context* ctx;
  CUresult r = UsableContext(&ctx);
  if (r != CUDA_SUCCESS) return r;
  constexpr unsigned kKnown = CU_EVENT_BLOCKING_SYNC | CU_EVENT_DISABLE_TIMING | CU_EVENT_INTERPROCESS;
  if (!event || (flags & ~kKnown)) return CUDA_ERROR_INVALID_VALUE;
  if ((flags & CU_EVENT_INTERPROCESS) && !(flags & CU_EVENT_DISABLE_TIMING)) return CUDA_ERROR_INVALID_VALUE;
  auto* e = new Event;
  e->ctx = ctx;
  e->flags = flags;
  D().events.Add(e);
  *event = reinterpret_cast<CUevent>(e);
  return CUDA_SUCCESS;
}

CUresult cuEventDestroy(CUevent event) {
  std::lock_guard lock(D().mu);
  if (!D().initialized) return CUDA_ERROR_NOT_INITIALIZED;
  Event* e;
  CUresult r = EventOf(event, &e);
  if (r != CUDA_SUCCESS) return r;
  // Streams waiting for its record hold the completion, not the event.
  D().events.Remove(e);
  delete e;
  return CUDA_SUCCESS;
}

CUresult cuEventRecordWithFlags(CUevent event, CUstream stream, unsigned int flags) {
  std::lock_guard lock(D().mu);
  Context* ctx;
  CUresult r = UsableContext(&ctx);
  if (r != CUDA_SUCCESS) return r;
  Stream* s;
  Event* e;
  if ((r = ResolveStream(ctx, stream, &s)) != CUDA_SUCCESS || (r = EventOf(event, &e)) != CUDA_SUCCESS) return r;
  if (flags & ~CU_EVENT_RECORD_EXTERNAL) return CUDA_ERROR_INVALID_VALUE;
  if (e->ctx != ctx) return CUDA_ERROR_INVALID_HANDLE;
  // A marker op: the event is reached when the stream reaches it, and its
  // time is when the worker got there.
  Op op;
  op.what = "cuEventRecord";
  e->recorded = Enqueue(s, std::move(op));
  return CUDA_SUCCESS;
}

CUresult cuEventRecord(CUevent event, CUstream stream) { return fake::cuEventRecordWithFlags(event, stream, 0); }

CUresult cuEventSynchronize(CUevent event) {
  std::unique_lock lock(D().mu);
  Context* ctx;
  CUresult r = UsableContext(&ctx);
  if (r != CUDA_SUCCESS) return r;
  Event* e;
  if ((r = EventOf(event, &e)) != CUDA_SUCCESS) return r;
  CompletionRef recorded = e->recorded;  // the event may be destroyed while we wait
  Context* owner = e->ctx;
  if (Pending(recorded)) CountCall((e->flags & CU_EVENT_BLOCKING_SYNC) ? kBlockingWaits : kSpinningWaits);
  r = WaitAll(lock, owner, {recorded});
  ReleaseAboveThreshold(owner->device);
  return FlushedAt(lock, owner, r);
}

CUresult cuEventQuery(CUevent event) {
  std::lock_guard lock(D().mu);
  Context* ctx;
  CUresult r = UsableContext(&ctx);
  if (r != CUDA_SUCCESS) return r;
  Event* e;
  if ((r = EventOf(event, &e)) != CUDA_SUCCESS) return r;
  if (e->ctx->sticky) return static_cast<CUresult>(e->ctx->sticky.load());
  return Pending(e->recorded) ? CUDA_ERROR_NOT_READY : CUDA_SUCCESS;
}

// Host steady-clock time between the two records' execution: TEST
// EQUIPMENT, it measures nothing about GPUs.
CUresult cuEventElapsedTime(float* milliseconds, CUevent start, CUevent end) {
  std::lock_guard lock(D().mu);
  Context* ctx;
  CUresult r = UsableContext(&ctx);
  if (r != CUDA_SUCCESS) return r;
  Event *a, *b;
  if ((r = EventOf(start, &a)) != CUDA_SUCCESS || (r = EventOf(end, &b)) != CUDA_SUCCESS) return r;
  if (!milliseconds) return CUDA_ERROR_INVALID_VALUE;
  if ((a->flags | b->flags) & CU_EVENT_DISABLE_TIMING) return CUDA_ERROR_INVALID_HANDLE;
  if (!a->recorded || !b->recorded) return CUDA_ERROR_INVALID_HANDLE;
  if (Pending(a->recorded) || Pending(b->recorded)) return CUDA_ERROR_NOT_READY;
  *milliseconds = static_cast<float>(static_cast<double>(b->recorded->end_ns - a->recorded->end_ns) / 1e6);
  return CUDA_SUCCESS;
}

// The function runs on the stream's worker, in order, and holds the stream
// until it returns. After a context fault it is not called, as CUDA
// documents for cuLaunchHostFunc.
CUresult cuLaunchHostFunc(CUstream stream, CUhostFn fn, void* user_data) {
  std::lock_guard lock(D().mu);
  Context* ctx;
  Stream* s;
  CUresult r = UsableStream(stream, &ctx, &s);
  if (r != CUDA_SUCCESS) return r;
  if (!fn) return CUDA_ERROR_INVALID_VALUE;
  Op op;
  op.what = "cuLaunchHostFunc";
  op.run = [fn, user_data] {
    fn(user_data);
    return CUDA_SUCCESS;
  };
  Enqueue(s, std::move(op));
  return CUDA_SUCCESS;
}

}  // namespace fake
