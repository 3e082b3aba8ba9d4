// TEST EQUIPMENT: how the fake CUDA driver runs stream-ordered work.
//
// Every stream (the legacy default stream included) has a queue and a worker
// thread that runs the queue's operations in order, later than and apart from
// the call that queued them, as a GPU does. An operation may wait for
// completions of other streams' operations (events, and the legacy default
// stream's implicit synchronization); it is recorded as done when it has run.
//
// Legacy default stream semantics, as CUDA defines them: an operation queued
// on the legacy stream waits for all earlier work of the context's blocking
// streams; an operation queued on a blocking stream waits for earlier work of
// the legacy stream. Streams created with CU_STREAM_NON_BLOCKING take no part.
//
// After a context fault (a host kernel returned an error) the workers discard
// the context's queued and later work without running it, host functions
// included, as a faulted GPU context does.
//
// All functions here expect the driver's lock to be held.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "tests/fake_driver/driver_state.h"

namespace fake {

struct Completion {
  bool done = false;
  int64_t end_ns = 0;  // steady clock when it was done (event timing)
};
using CompletionRef = std::shared_ptr<Completion>;

inline bool Pending(const CompletionRef& c) { return c && !c->done; }

struct Op {
  const char* what = "";
  std::vector<CompletionRef> waits;  // run only once all of these are done
  // Runs on the stream's worker without the lock. A result other than
  // CUDA_SUCCESS faults the context (sticky), as a failing kernel does.
  std::function<CUresult()> run;
  // Completions to mark done when the op is over even if `run` did not reach
  // them (a graph's event record nodes, when the context faulted).
  std::vector<CompletionRef> signals;
  CompletionRef done;
};

struct Stream {
  Context* ctx = nullptr;
  unsigned flags = 0;
  int priority = 0;
  // cuStreamSetAttribute's attributes (kept, not modelled: no L2 here).
  CUaccessPolicyWindow window{};
  CUsynchronizationPolicy sync_policy = CU_SYNC_POLICY_AUTO;
  bool legacy = false;
  std::deque<Op> queue;
  CompletionRef last;       // the completion of the last op queued
  bool destroyed = false;   // no more work may be queued
  bool exited = false;      // the worker is gone
  std::thread worker;

  bool blocking() const { return !legacy && !(flags & CU_STREAM_NON_BLOCKING); }
};

struct Event {
  Context* ctx = nullptr;
  unsigned flags = 0;
  CompletionRef recorded;  // the point of the last record; null if never recorded
};

Stream* CreateStream(Context* ctx, unsigned flags, int priority, bool legacy);

// No more work may be queued; the worker finishes what is queued, then exits.
void DestroyStream(Stream* s);

// Joins and frees the context's destroyed streams whose worker has exited.
void ReapStreams(Context* ctx);

// The stream a handle names in `ctx`: nullptr and CU_STREAM_LEGACY are the
// legacy default stream. CU_STREAM_PER_THREAD is not modeled (refused).
CUresult ResolveStream(Context* ctx, CUstream handle, Stream** stream);

// The preamble of most stream calls: the calling thread's context checked
// for use (UsableContext), then `handle` resolved in it. Call with the lock
// held.
CUresult UsableStream(CUstream handle, Context** ctx, Stream** stream);

// Queues `op` on `s` behind its implicit dependencies and returns its
// completion.
CompletionRef Enqueue(Stream* s, Op op);

// Waits, releasing the lock meanwhile, until every completion is done or the
// context faulted. Returns the context's sticky error, or CUDA_SUCCESS.
CUresult WaitAll(std::unique_lock<std::mutex>& lock, Context* ctx, const std::vector<CompletionRef>& completions);

// Queues `op` and waits for it: what the driver does for copies that involve
// pageable host memory.
CUresult RunAndWait(std::unique_lock<std::mutex>& lock, Stream* s, Op op);

// What synchronizing a stream waits for: its last op; for the legacy stream
// also the last op of every blocking stream.
std::vector<CompletionRef> StreamTargets(Stream* s);
// Every stream of the context.
std::vector<CompletionRef> ContextTargets(Context* ctx);

}  // namespace fake
