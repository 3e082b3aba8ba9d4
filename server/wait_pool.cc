#include "server/wait_pool.h"

namespace rcuda {

WaitPool::~WaitPool() {
  {
    std::lock_guard lock(state_->mu);
    state_->stopping = true;
  }
  state_->cv.notify_all();
  // A thread still blocked in a GPU wait belongs to a session that is
  // ending; the process exits with it. Each thread holds the state it
  // touches, so one that wakes after this returns finds it alive.
  for (auto& t : threads_) t.detach();
}

bool WaitPool::TryRun(std::function<void()>&& task) {
  std::lock_guard lock(state_->mu);
  // Tasks already queued take idle threads first.
  if (static_cast<size_t>(state_->idle) <= state_->tasks.size()) {
    if (threads_.size() >= max_threads_) return false;
    state_->tasks.push_back(std::move(task));
    threads_.emplace_back([state = state_] { Loop(state); });
    return true;
  }
  state_->tasks.push_back(std::move(task));
  state_->cv.notify_one();
  return true;
}

size_t WaitPool::threads() {
  std::lock_guard lock(state_->mu);
  return threads_.size();
}

void WaitPool::Loop(std::shared_ptr<State> state) {
  std::unique_lock lock(state->mu);
  while (true) {
    ++state->idle;
    state->cv.wait(lock, [&] { return state->stopping || !state->tasks.empty(); });
    --state->idle;
    if (state->stopping) return;
    auto task = std::move(state->tasks.front());
    state->tasks.pop_front();
    lock.unlock();
    task();
    lock.lock();
  }
}

}  // namespace rcuda
