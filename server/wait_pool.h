// Threads for the requests that wait for the GPU (stream, event and device
// synchronization). A session's worker hands such a wait to the pool and
// goes on reading the session's requests, so that one client thread waiting
// for its stream does not hold up another thread's work, which the first
// may well be waiting for.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace rcuda {

class WaitPool {
 public:
  // At most `max_threads` threads: a session cannot make its worker start
  // threads without end.
  explicit WaitPool(size_t max_threads = 32) : max_threads_(max_threads) {}
  ~WaitPool();
  // Runs `task` on a pool thread; starts another thread when all are busy
  // (waits may depend on each other, so none may queue behind another).
  // False, with `task` not run, when every thread is busy and there may be
  // no more: the caller waits itself (back-pressure on the session).
  bool TryRun(std::function<void()>&& task);
  size_t threads();

 private:
  // What the threads share. They hold it themselves: a thread still blocked
  // in a GPU wait when the pool goes is detached and touches it afterwards.
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<std::function<void()>> tasks;  // guarded by mu
    int idle = 0;                             // guarded by mu
    bool stopping = false;                    // guarded by mu
  };
  static void Loop(std::shared_ptr<State> state);

  const std::shared_ptr<State> state_ = std::make_shared<State>();
  std::vector<std::thread> threads_;  // guarded by state_->mu
  const size_t max_threads_;
};

}  // namespace rcuda
