#include "client/objects.h"

#include <map>
#include <mutex>
#include <unordered_set>

#include "client/errors.h"
#include "client/runtime.h"

namespace rcuda::client {
namespace {

std::mutex& Mu() {
  static std::mutex* mu = new std::mutex;
  return *mu;
}
std::unordered_set<const void*>& Live() {
  static auto* live = new std::unordered_set<const void*>;
  return *live;
}

// The per-thread default stream of each device, created on first use: a
// blocking stream, as CUDA's is.
struct PerThreadStream {
  StreamObject* stream = nullptr;
  uint64_t generation = 0;
};
thread_local std::map<Session*, PerThreadStream> per_thread_streams;

}  // namespace

StreamObject* NewStream(Session* session, uint64_t remote, unsigned flags, int priority) {
  auto* s = new StreamObject{session, remote, flags, priority, nullptr, {}};
  std::lock_guard lock(Mu());
  Live().insert(s);
  return s;
}

void DeleteStream(StreamObject* stream) {
  {
    std::lock_guard lock(Mu());
    Live().erase(stream);
  }
  delete stream;
}

StreamObject* FindStream(cudaStream_t handle) {
  std::lock_guard lock(Mu());
  return Live().count(handle) ? reinterpret_cast<StreamObject*>(handle) : nullptr;
}

EventObject* NewEvent(Session* session, uint64_t remote, unsigned flags) {
  auto* e = new EventObject{session, remote, flags, nullptr, {}};
  std::lock_guard lock(Mu());
  Live().insert(e);
  return e;
}

void DeleteEvent(EventObject* event) {
  {
    std::lock_guard lock(Mu());
    Live().erase(event);
  }
  delete event;
}

EventObject* FindEvent(cudaEvent_t handle) {
  std::lock_guard lock(Mu());
  return Live().count(handle) ? reinterpret_cast<EventObject*>(handle) : nullptr;
}

cudaError_t ResolveStream(cudaStream_t handle, bool per_thread, StreamRef* ref) {
  Runtime& rt = Runtime::Get();
  if (handle == cudaStreamPerThread || (handle == nullptr && per_thread)) {
    Session* session = rt.current_session();
    if (!session) return cudaErrorInvalidDevice;
    PerThreadStream& p = per_thread_streams[session];
    if (!p.stream || p.generation != session->generation()) {
      // First use on this thread, or the device was reset since.
      uint64_t remote = 0;
      Status status = session->StreamCreate(0, 0, &remote);
      if (!status.ok()) return static_cast<cudaError_t>(status.ToCudaError());
      if (p.stream) DeleteStream(p.stream);
      p.stream = NewStream(session, remote, 0, 0);
      p.generation = session->generation();
    }
    *ref = StreamRef{session, p.stream->remote, p.stream};
    return cudaSuccess;
  }
  if (handle == nullptr || handle == cudaStreamLegacy) {
    Session* session = rt.current_session();
    if (!session) return cudaErrorInvalidDevice;
    *ref = StreamRef{session, 0, nullptr};
    return cudaSuccess;
  }
  StreamObject* s = FindStream(handle);
  if (!s) return cudaErrorInvalidResourceHandle;
  *ref = StreamRef{s->session, s->remote, s};
  return cudaSuccess;
}

void LockObjectsForFork() { Mu().lock(); }
void UnlockObjectsAfterFork() { Mu().unlock(); }

}  // namespace rcuda::client
