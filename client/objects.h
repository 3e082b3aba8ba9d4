// The client's stream and event objects. A cudaStream_t / cudaEvent_t the
// program holds is a pointer to one of these: the device (Session) it
// belongs to and the server's handle. Stream capture state lives here too
// (client/graph.h), since rcuda captures on the client.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "client/session.h"

namespace rcuda::client {

struct Capture;
struct GraphNodeObject;

struct StreamObject {
  Session* session;
  uint64_t remote;
  unsigned flags;
  int priority;
  // While capturing: the capture it takes part in, and the nodes the next
  // captured operation depends on.
  std::shared_ptr<Capture> capture;
  std::vector<GraphNodeObject*> tail;
};

struct EventObject {
  Session* session;
  uint64_t remote;
  unsigned flags;
  // Recorded during a capture: the nodes a stream waiting on it joins after.
  std::shared_ptr<Capture> capture;
  std::vector<GraphNodeObject*> nodes;
};

// Handles the program passes in. Checked against the live objects, so a
// destroyed or made-up handle is an error, not a crash.
StreamObject* NewStream(Session* session, uint64_t remote, unsigned flags, int priority);
void DeleteStream(StreamObject* stream);
StreamObject* FindStream(cudaStream_t handle);
EventObject* NewEvent(Session* session, uint64_t remote, unsigned flags);
void DeleteEvent(EventObject* event);
EventObject* FindEvent(cudaEvent_t handle);

// What a stream argument means, resolved: the session, the server's stream
// handle and, for a created stream, its object. `per_thread`: the call came
// through a _ptsz/_ptds export, so the null stream is the per-thread stream.
struct StreamRef {
  Session* session = nullptr;
  uint64_t remote = 0;
  StreamObject* object = nullptr;  // nullptr for the legacy stream
};
cudaError_t ResolveStream(cudaStream_t handle, bool per_thread, StreamRef* ref);

// fork(): the table of live objects is locked across it (client/runtime.cc).
void LockObjectsForFork();
void UnlockObjectsAfterFork();

}  // namespace rcuda::client
