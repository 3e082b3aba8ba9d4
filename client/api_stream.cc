// Streams, events, host functions and stream capture.
#include <algorithm>
#include <atomic>
#include <cstring>

#include "client/api_common.h"
#include "client/graph.h"
#include "client/objects.h"

using namespace rcuda::client;

namespace {

// Query results are not errors: cudaErrorNotReady does not become the
// thread's last error.
cudaError_t QueryResult(const rcuda::Status& s) {
  if (s.ToCudaError() == cudaErrorNotReady) return cudaErrorNotReady;
  return Return(s);
}

// Ends a capture that an illegal call broke, as CUDA does.
cudaError_t Invalidate(StreamObject* s, cudaError_t why) {
  if (s && s->capture && s->capture->error == cudaSuccess) s->capture->error = why;
  return Fail(why);
}

cudaError_t CreateStream(cudaStream_t* out, unsigned flags, int priority) {
  if (!out || (flags & ~cudaStreamNonBlocking)) return Fail(cudaErrorInvalidValue);
  RCUDA_CURRENT_SESSION(session);
  rcuda::Status s = session->Connect();
  if (!s.ok()) return Return(s);
  // Priorities outside the device's range are clamped, as CUDA does.
  priority = std::min(session->stream_priority_least(), std::max(session->stream_priority_greatest(), priority));
  uint64_t remote = 0;
  s = session->StreamCreate(flags, priority, &remote);
  if (!s.ok()) return Return(s);
  *out = reinterpret_cast<cudaStream_t>(NewStream(session, remote, flags, priority));
  return cudaSuccess;
}

cudaError_t StreamSynchronize(cudaStream_t stream, bool per_thread) {
  StreamRef ref;
  cudaError_t e = ResolveStream(stream, per_thread, &ref);
  if (e != cudaSuccess) return Fail(e);
  if (ref.object && ref.object->capture) return Invalidate(ref.object, cudaErrorStreamCaptureUnsupported);
  return Return(ref.session->StreamSynchronize(ref.remote));
}

cudaError_t StreamQuery(cudaStream_t stream, bool per_thread) {
  StreamRef ref;
  cudaError_t e = ResolveStream(stream, per_thread, &ref);
  if (e != cudaSuccess) return Fail(e);
  if (ref.object && ref.object->capture) return Invalidate(ref.object, cudaErrorStreamCaptureUnsupported);
  return QueryResult(ref.session->StreamQuery(ref.remote));
}

cudaError_t StreamWaitEvent(cudaStream_t stream, cudaEvent_t event, unsigned flags, bool per_thread) {
  StreamRef ref;
  cudaError_t e = ResolveStream(stream, per_thread, &ref);
  if (e != cudaSuccess) return Fail(e);
  EventObject* ev = FindEvent(event);
  if (!ev) return Fail(cudaErrorInvalidResourceHandle);
  if (ev->capture) {
    // Joining a capture: the stream continues after the event's nodes.
    if (!ref.object) return Fail(cudaErrorStreamCaptureImplicit);
    if (ref.object->capture && ref.object->capture != ev->capture) return Fail(cudaErrorStreamCaptureIsolation);
    if (!ref.object->capture) {
      ref.object->capture = ev->capture;
      ref.object->tail.clear();
    }
    for (GraphNodeObject* n : ev->nodes)
      if (std::find(ref.object->tail.begin(), ref.object->tail.end(), n) == ref.object->tail.end())
        ref.object->tail.push_back(n);
    return cudaSuccess;
  }
  if (ref.object && ref.object->capture) {
    // Waiting on work outside the capture: CUDA records an external
    // dependency; rcuda makes sure that work is done now, which is stronger.
    return Return(ev->session->EventSynchronize(ev->remote));
  }
  if (ev->session != ref.session) {
    // An event of another device (perhaps another server): wait for it
    // here, then go on; stronger ordering than CUDA's, never weaker.
    return Return(ev->session->EventSynchronize(ev->remote));
  }
  return Return(ref.session->StreamWaitEvent(ref.remote, ev->remote, flags));
}

cudaError_t EventRecord(cudaEvent_t event, cudaStream_t stream, unsigned flags, bool per_thread) {
  EventObject* ev = FindEvent(event);
  if (!ev) return Fail(cudaErrorInvalidResourceHandle);
  StreamRef ref;
  cudaError_t e = ResolveStream(stream, per_thread, &ref);
  if (e != cudaSuccess) return Fail(e);
  if (ref.object && ref.object->capture) {
    // In a capture, the event marks the stream's current nodes.
    ev->capture = ref.object->capture;
    ev->nodes = ref.object->tail;
    return cudaSuccess;
  }
  if (ev->session != ref.session) return Fail(cudaErrorInvalidResourceHandle);
  ev->capture.reset();
  ev->nodes.clear();
  return Return(ref.session->EventRecord(ev->remote, ref.remote, flags));
}

cudaError_t HostFunc(cudaStream_t stream, std::function<void()> fn, bool per_thread) {
  StreamRef ref;
  cudaError_t e = ResolveStream(stream, per_thread, &ref);
  if (e != cudaSuccess) return Fail(e);
  if (ref.object && ref.object->capture) {
    GraphNodeObject* node = CaptureNode(ref.object, cudaGraphNodeTypeHost);
    node->host_fn = std::move(fn);
    return cudaSuccess;
  }
  return Return(ref.session->HostFunction(ref.remote, std::move(fn)));
}

std::atomic<unsigned long long> next_capture_id{0};

cudaError_t BeginCapture(cudaStream_t stream, cudaStreamCaptureMode mode, bool per_thread) {
  StreamRef ref;
  cudaError_t e = ResolveStream(stream, per_thread, &ref);
  if (e != cudaSuccess) return Fail(e);
  if (!ref.object) return Fail(cudaErrorStreamCaptureUnsupported);  // the legacy stream cannot capture
  if (ref.object->capture) return Fail(cudaErrorIllegalState);
  auto capture = std::make_shared<Capture>();
  capture->graph = NewGraph();
  capture->mode = mode;
  capture->id = ++next_capture_id;
  ref.object->capture = capture;
  ref.object->tail.clear();
  return cudaSuccess;
}

// A capture into the program's graph, after `deps` (cudaStreamBeginCaptureToGraph).
cudaError_t BeginCaptureToGraph(cudaStream_t stream, cudaGraph_t graph, const cudaGraphNode_t* deps,
                                const cudaGraphEdgeData* edges, size_t count, cudaStreamCaptureMode mode,
                                bool per_thread) {
  GraphObject* g = FindGraph(graph);
  if (!g || (count && !deps)) return Fail(cudaErrorInvalidValue);
  std::vector<GraphNodeObject*> tail;
  for (size_t i = 0; i < count; ++i) {
    GraphNodeObject* d = FindNode(deps[i]);
    if (!d || d->graph != g) return Fail(cudaErrorInvalidValue);
    tail.push_back(d);
  }
  if (!DefaultEdges(edges, count)) return Fail(cudaErrorNotSupported);
  StreamRef ref;
  cudaError_t e = ResolveStream(stream, per_thread, &ref);
  if (e != cudaSuccess) return Fail(e);
  if (!ref.object) return Fail(cudaErrorStreamCaptureUnsupported);
  if (ref.object->capture) return Fail(cudaErrorIllegalState);
  auto capture = std::make_shared<Capture>();
  capture->graph = g;
  capture->owns_graph = false;
  capture->mode = mode;
  capture->id = ++next_capture_id;
  ref.object->capture = capture;
  ref.object->tail = std::move(tail);
  return cudaSuccess;
}

// Adds to or replaces the nodes the stream's next captured work depends on.
cudaError_t UpdateCaptureDependencies(cudaStream_t stream, cudaGraphNode_t* deps, const cudaGraphEdgeData* edges,
                                      size_t count, unsigned flags, bool per_thread) {
  if (flags != cudaStreamAddCaptureDependencies && flags != cudaStreamSetCaptureDependencies)
    return Fail(cudaErrorInvalidValue);
  if (count && !deps) return Fail(cudaErrorInvalidValue);
  StreamRef ref;
  cudaError_t e = ResolveStream(stream, per_thread, &ref);
  if (e != cudaSuccess) return Fail(e);
  if (!ref.object || !ref.object->capture) return Fail(cudaErrorIllegalState);
  if (!DefaultEdges(edges, count)) return Fail(cudaErrorNotSupported);
  std::vector<GraphNodeObject*> tail = flags == cudaStreamSetCaptureDependencies ? std::vector<GraphNodeObject*>{}
                                                                                 : ref.object->tail;
  for (size_t i = 0; i < count; ++i) {
    GraphNodeObject* d = FindNode(deps[i]);
    if (!d || d->graph != ref.object->capture->graph) return Fail(cudaErrorInvalidValue);
    if (std::find(tail.begin(), tail.end(), d) == tail.end()) tail.push_back(d);
  }
  ref.object->tail = std::move(tail);
  return cudaSuccess;
}

cudaError_t EndCapture(cudaStream_t stream, cudaGraph_t* graph, bool per_thread) {
  if (!graph) return Fail(cudaErrorInvalidValue);
  StreamRef ref;
  cudaError_t e = ResolveStream(stream, per_thread, &ref);
  if (e != cudaSuccess) return Fail(e);
  if (!ref.object || !ref.object->capture) return Fail(cudaErrorIllegalState);
  std::shared_ptr<Capture> capture = ref.object->capture;
  ref.object->capture.reset();
  ref.object->tail.clear();
  if (capture->error != cudaSuccess) {
    if (capture->owns_graph) DeleteGraph(capture->graph);
    *graph = nullptr;
    return Fail(cudaErrorStreamCaptureInvalidated);
  }
  *graph = reinterpret_cast<cudaGraph_t>(capture->graph);
  return cudaSuccess;
}

cudaError_t IsCapturing(cudaStream_t stream, cudaStreamCaptureStatus* status, unsigned long long* id,
                        bool per_thread) {
  if (!status) return Fail(cudaErrorInvalidValue);
  StreamRef ref;
  cudaError_t e = ResolveStream(stream, per_thread, &ref);
  if (e != cudaSuccess) return Fail(e);
  if (!ref.object || !ref.object->capture) {
    *status = cudaStreamCaptureStatusNone;
    return cudaSuccess;
  }
  *status = ref.object->capture->error == cudaSuccess ? cudaStreamCaptureStatusActive
                                                      : cudaStreamCaptureStatusInvalidated;
  if (id) *id = ref.object->capture->id;
  return cudaSuccess;
}

cudaError_t GetCaptureInfo(cudaStream_t stream, cudaStreamCaptureStatus* status, unsigned long long* id,
                           cudaGraph_t* graph, const cudaGraphNode_t** deps, const cudaGraphEdgeData** edges,
                           size_t* count, bool per_thread) {
  cudaError_t e = IsCapturing(stream, status, id, per_thread);
  if (e != cudaSuccess) return e;
  StreamRef ref;
  ResolveStream(stream, per_thread, &ref);
  bool active = ref.object && ref.object->capture;
  if (graph) *graph = active ? reinterpret_cast<cudaGraph_t>(ref.object->capture->graph) : nullptr;
  if (deps) *deps = active ? reinterpret_cast<const cudaGraphNode_t*>(ref.object->tail.data()) : nullptr;
  if (edges) *edges = nullptr;
  if (count) *count = active ? ref.object->tail.size() : 0;
  return cudaSuccess;
}

}  // namespace

extern "C" {

RCUDA_EXPORT cudaError_t cudaStreamCreate(cudaStream_t* stream) { return CreateStream(stream, 0, 0); }

RCUDA_EXPORT cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned int flags) {
  return CreateStream(stream, flags, 0);
}

RCUDA_EXPORT cudaError_t cudaStreamCreateWithPriority(cudaStream_t* stream, unsigned int flags, int priority) {
  return CreateStream(stream, flags, priority);
}

RCUDA_EXPORT cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  StreamObject* s = FindStream(stream);
  if (!s) return Fail(cudaErrorInvalidResourceHandle);
  rcuda::Status status = s->session->StreamDestroy(s->remote);
  DeleteStream(s);
  return Return(status);
}

}  // extern "C"

cudaError_t exports::cudaStreamSynchronize(cudaStream_t stream, bool per_thread) {
  return StreamSynchronize(stream, per_thread);
}

cudaError_t exports::cudaStreamQuery(cudaStream_t stream, bool per_thread) { return StreamQuery(stream, per_thread); }

cudaError_t exports::cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t event, unsigned int flags, bool per_thread) {
  return StreamWaitEvent(stream, event, flags, per_thread);
}

namespace {

cudaError_t StreamInfo(cudaStream_t stream, bool per_thread, int* priority, unsigned* flags) {
  StreamRef ref;
  cudaError_t e = ResolveStream(stream, per_thread, &ref);
  if (e != cudaSuccess) return Fail(e);
  if (!ref.object) {  // the legacy stream
    if (priority) *priority = 0;
    if (flags) *flags = 0;
    return cudaSuccess;
  }
  if (priority) *priority = ref.object->priority;
  if (flags) *flags = ref.object->flags;
  return cudaSuccess;
}

}  // namespace

cudaError_t exports::cudaStreamGetPriority(cudaStream_t stream, int* priority, bool per_thread) {
  if (!priority) return Fail(cudaErrorInvalidValue);
  return StreamInfo(stream, per_thread, priority, nullptr);
}

cudaError_t exports::cudaStreamGetFlags(cudaStream_t stream, unsigned int* flags, bool per_thread) {
  if (!flags) return Fail(cudaErrorInvalidValue);
  return StreamInfo(stream, per_thread, nullptr, flags);
}

cudaError_t exports::cudaStreamGetDevice(cudaStream_t stream, int* device, bool per_thread) {
  if (!device) return Fail(cudaErrorInvalidValue);
  StreamRef ref;
  cudaError_t e = ResolveStream(stream, per_thread, &ref);
  if (e != cudaSuccess) return Fail(e);
  *device = ref.session->device();
  return cudaSuccess;
}

cudaError_t exports::cudaStreamGetId(cudaStream_t stream, unsigned long long* id, bool per_thread) {
  if (!id) return Fail(cudaErrorInvalidValue);
  StreamRef ref;
  cudaError_t e = ResolveStream(stream, per_thread, &ref);
  if (e != cudaSuccess) return Fail(e);
  *id = ref.object ? ref.remote : 0;
  return cudaSuccess;
}

extern "C" {

RCUDA_EXPORT cudaError_t cudaDeviceGetStreamPriorityRange(int* least, int* greatest) {
  RCUDA_CURRENT_SESSION(session);
  rcuda::Status s = session->Connect();
  if (!s.ok()) return Return(s);
  if (least) *least = session->stream_priority_least();
  if (greatest) *greatest = session->stream_priority_greatest();
  return cudaSuccess;
}

// ---- Events --------------------------------------------------------------

RCUDA_EXPORT cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned int flags) {
  if (!event || (flags & ~(cudaEventBlockingSync | cudaEventDisableTiming | cudaEventInterprocess))) {
    return Fail(cudaErrorInvalidValue);
  }
  if (flags & cudaEventInterprocess) return Fail(cudaErrorNotSupported);
  RCUDA_CURRENT_SESSION(session);
  uint64_t remote = 0;
  rcuda::Status s = session->EventCreate(flags, &remote);
  if (!s.ok()) return Return(s);
  *event = reinterpret_cast<cudaEvent_t>(NewEvent(session, remote, flags));
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaEventCreate(cudaEvent_t* event) { return cudaEventCreateWithFlags(event, 0); }

RCUDA_EXPORT cudaError_t cudaEventDestroy(cudaEvent_t event) {
  EventObject* ev = FindEvent(event);
  if (!ev) return Fail(cudaErrorInvalidResourceHandle);
  rcuda::Status s = ev->session->EventDestroy(ev->remote);
  DeleteEvent(ev);
  return Return(s);
}

}  // extern "C"

cudaError_t exports::cudaEventRecord(cudaEvent_t event, cudaStream_t stream, bool per_thread) {
  return EventRecord(event, stream, 0, per_thread);
}

cudaError_t exports::cudaEventRecordWithFlags(cudaEvent_t event, cudaStream_t stream, unsigned int flags,
                                              bool per_thread) {
  return EventRecord(event, stream, flags, per_thread);
}

extern "C" {

RCUDA_EXPORT cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  EventObject* ev = FindEvent(event);
  if (!ev) return Fail(cudaErrorInvalidResourceHandle);
  return Return(ev->session->EventSynchronize(ev->remote));
}

RCUDA_EXPORT cudaError_t cudaEventQuery(cudaEvent_t event) {
  EventObject* ev = FindEvent(event);
  if (!ev) return Fail(cudaErrorInvalidResourceHandle);
  return QueryResult(ev->session->EventQuery(ev->remote));
}

RCUDA_EXPORT cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  if (!ms) return Fail(cudaErrorInvalidValue);
  EventObject* a = FindEvent(start);
  EventObject* b = FindEvent(end);
  if (!a || !b || a->session != b->session) return Fail(cudaErrorInvalidResourceHandle);
  return Return(a->session->EventElapsedTime(a->remote, b->remote, ms));
}

}  // extern "C"

// ---- Host functions ------------------------------------------------------

cudaError_t exports::cudaLaunchHostFunc(cudaStream_t stream, cudaHostFn_t fn, void* user_data, bool per_thread) {
  if (!fn) return Fail(cudaErrorInvalidValue);
  return HostFunc(stream, [fn, user_data] { fn(user_data); }, per_thread);
}

// The callback receives the stream and cudaSuccess: an error of earlier work
// is reported by the next synchronizing call instead.
cudaError_t exports::cudaStreamAddCallback(cudaStream_t stream, cudaStreamCallback_t callback, void* user_data,
                                           unsigned int flags, bool per_thread) {
  if (!callback || flags != 0) return Fail(cudaErrorInvalidValue);
  return HostFunc(stream, [callback, stream, user_data] { callback(stream, cudaSuccess, user_data); }, per_thread);
}

// ---- Stream capture --------------------------------------------------------

cudaError_t exports::cudaStreamBeginCapture(cudaStream_t stream, cudaStreamCaptureMode mode, bool per_thread) {
  return BeginCapture(stream, mode, per_thread);
}

cudaError_t exports::cudaStreamBeginCaptureToGraph(cudaStream_t stream, cudaGraph_t graph,
                                                   const cudaGraphNode_t* deps, const cudaGraphEdgeData* edges,
                                                   size_t count, cudaStreamCaptureMode mode, bool per_thread) {
  return BeginCaptureToGraph(stream, graph, deps, edges, count, mode, per_thread);
}

cudaError_t exports::cudaStreamUpdateCaptureDependencies(cudaStream_t stream, cudaGraphNode_t* deps,
                                                         const cudaGraphEdgeData* edges, size_t count,
                                                         unsigned int flags, bool per_thread) {
  return UpdateCaptureDependencies(stream, deps, edges, count, flags, per_thread);
}

cudaError_t exports::cudaStreamEndCapture(cudaStream_t stream, cudaGraph_t* graph, bool per_thread) {
  return EndCapture(stream, graph, per_thread);
}

cudaError_t exports::cudaStreamIsCapturing(cudaStream_t stream, cudaStreamCaptureStatus* status, bool per_thread) {
  return IsCapturing(stream, status, nullptr, per_thread);
}

cudaError_t exports::cudaStreamGetCaptureInfo(cudaStream_t stream, cudaStreamCaptureStatus* status,
                                              unsigned long long* id, cudaGraph_t* graph, const cudaGraphNode_t** deps,
                                              const cudaGraphEdgeData** edges, size_t* count, bool per_thread) {
  return GetCaptureInfo(stream, status, id, graph, deps, edges, count, per_thread);
}

extern "C" {

RCUDA_EXPORT cudaError_t cudaThreadExchangeStreamCaptureMode(cudaStreamCaptureMode* mode) {
  if (!mode) return Fail(cudaErrorInvalidValue);
  // rcuda's captures do not depend on the thread's mode: every client
  // thread's calls reach the server in one ordered session anyway.
  static thread_local cudaStreamCaptureMode current = cudaStreamCaptureModeGlobal;
  std::swap(current, *mode);
  return cudaSuccess;
}

}  // extern "C"
