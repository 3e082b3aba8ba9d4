#include "tests/fake_driver/stream_engine.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>

namespace fake {
namespace {

// RCUDA_FAKE_DRIVER_OP_DELAY_US: every stream operation starts this much
// later, a slow GPU, so that a caller that reuses memory or reads results
// before the stream got there fails visibly instead of by luck.
std::chrono::microseconds OpDelay() {
  static const std::chrono::microseconds delay = [] {
    const char* v = std::getenv("RCUDA_FAKE_DRIVER_OP_DELAY_US");
    return std::chrono::microseconds(v ? std::strtoll(v, nullptr, 10) : 0);
  }();
  return delay;
}

bool AllDone(const std::vector<CompletionRef>& completions) {
  return std::all_of(completions.begin(), completions.end(), [](const CompletionRef& c) { return c->done; });
}

void Finish(Op& op) {
  int64_t now = NowNanos();
  for (auto& c : op.signals) {
    if (!c->done) {
      c->done = true;
      c->end_ns = now;
    }
  }
  op.done->done = true;
  op.done->end_ns = now;
}

void WorkerLoop(Stream* s) {
  Driver& d = D();
  std::unique_lock lock(d.mu);
  for (;;) {
    d.cv.wait(lock, [&] { return !s->queue.empty() || s->destroyed; });
    if (s->queue.empty()) {
      s->exited = true;
      d.cv.notify_all();
      return;
    }
    // References to deque elements survive push_back, so `front` stays valid
    // while other threads queue more work during the wait.
    Op& front = s->queue.front();
    d.cv.wait(lock, [&] { return AllDone(front.waits); });
    Op op = std::move(front);
    s->queue.pop_front();
    CUresult result = CUDA_SUCCESS;
    if (s->ctx->sticky == 0 && op.run) {
      lock.unlock();
      if (OpDelay().count() > 0) std::this_thread::sleep_for(OpDelay());
      result = op.run();
      lock.lock();
    }
    if (result != CUDA_SUCCESS) MakeSticky(s->ctx, result, std::string("stream work failed: ") + op.what);
    Finish(op);
    d.cv.notify_all();
  }
}

}  // namespace

Stream* CreateStream(Context* ctx, unsigned flags, int priority, bool legacy) {
  auto* s = new Stream;
  s->ctx = ctx;
  s->flags = flags;
  s->priority = priority;
  s->legacy = legacy;
  s->worker = std::thread(WorkerLoop, s);
  if (!legacy) {
    ctx->streams.push_back(s);
    D().streams.Add(s);
  }
  return s;
}

void DestroyStream(Stream* s) {
  s->destroyed = true;
  D().streams.Remove(s);
  D().cv.notify_all();
}

void ReapStreams(Context* ctx) {
  auto& v = ctx->streams;
  for (auto it = v.begin(); it != v.end();) {
    Stream* s = *it;
    if (s->destroyed && s->exited) {
      // The worker set `exited` under the lock we hold and needs it no more.
      s->worker.join();
      delete s;
      it = v.erase(it);
    } else {
      ++it;
    }
  }
}

CUresult ResolveStream(Context* ctx, CUstream handle, Stream** stream) {
  if (handle == nullptr || handle == CU_STREAM_LEGACY) {
    *stream = ctx->legacy;
    return CUDA_SUCCESS;
  }
  if (handle == CU_STREAM_PER_THREAD) {
    Log("CU_STREAM_PER_THREAD is not modeled by the fake driver");
    return CUDA_ERROR_NOT_SUPPORTED;
  }
  auto* s = reinterpret_cast<Stream*>(handle);
  if (!D().streams.Has(s)) return CUDA_ERROR_INVALID_HANDLE;
  if (s->ctx != ctx) return CUDA_ERROR_INVALID_CONTEXT;
  *stream = s;
  return CUDA_SUCCESS;
}

CUresult UsableStream(CUstream handle, Context** ctx, Stream** stream) {
  CUresult r = UsableContext(ctx);
  if (r != CUDA_SUCCESS) return r;
  return ResolveStream(*ctx, handle, stream);
}

CompletionRef Enqueue(Stream* s, Op op) {
  Context* ctx = s->ctx;
  if (s->legacy) {
    for (Stream* other : ctx->streams)
      if (other->blocking() && Pending(other->last)) op.waits.push_back(other->last);
  } else if (s->blocking() && Pending(ctx->legacy->last)) {
    op.waits.push_back(ctx->legacy->last);
  }
  op.done = std::make_shared<Completion>();
  s->last = op.done;
  CompletionRef done = op.done;
  s->queue.push_back(std::move(op));
  D().cv.notify_all();
  return done;
}

CUresult WaitAll(std::unique_lock<std::mutex>& lock, Context* ctx, const std::vector<CompletionRef>& completions) {
  D().cv.wait(lock, [&] {
    return ctx->sticky != 0 ||
           std::all_of(completions.begin(), completions.end(), [](const CompletionRef& c) { return !Pending(c); });
  });
  return static_cast<CUresult>(ctx->sticky.load());
}

CUresult RunAndWait(std::unique_lock<std::mutex>& lock, Stream* s, Op op) {
  CompletionRef done = Enqueue(s, std::move(op));
  return WaitAll(lock, s->ctx, {done});
}

std::vector<CompletionRef> StreamTargets(Stream* s) {
  std::vector<CompletionRef> targets;
  if (Pending(s->last)) targets.push_back(s->last);
  if (s->legacy) {
    for (Stream* other : s->ctx->streams)
      if (other->blocking() && Pending(other->last)) targets.push_back(other->last);
  }
  return targets;
}

std::vector<CompletionRef> ContextTargets(Context* ctx) {
  std::vector<CompletionRef> targets;
  if (Pending(ctx->legacy->last)) targets.push_back(ctx->legacy->last);
  for (Stream* s : ctx->streams)
    if (Pending(s->last)) targets.push_back(s->last);
  return targets;
}

}  // namespace fake
