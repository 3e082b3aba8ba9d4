#include "server/wait_pool.h"

namespace rcuda {

WaitPool::~WaitPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  // A thread still blocked in a GPU wait belongs to a session that is
  // ending; the process exits with it.
  for (auto& t : threads_) t.detach();
}

bool WaitPool::TryRun(std::function<void()>&& task) {
  std::lock_guard lock(mu_);
  // Tasks already queued take idle threads first.
  if (static_cast<size_t>(idle_) <= tasks_.size()) {
    if (threads_.size() >= max_threads_) return false;
    tasks_.push_back(std::move(task));
    threads_.emplace_back([this] { Loop(); });
    return true;
  }
  tasks_.push_back(std::move(task));
  cv_.notify_one();
  return true;
}

size_t WaitPool::threads() {
  std::lock_guard lock(mu_);
  return threads_.size();
}

void WaitPool::Loop() {
  std::unique_lock lock(mu_);
  while (true) {
    ++idle_;
    cv_.wait(lock, [&] { return stopping_ || !tasks_.empty(); });
    --idle_;
    if (stopping_) return;
    auto task = std::move(tasks_.front());
    tasks_.pop_front();
    lock.unlock();
    task();
    lock.lock();
  }
}

}  // namespace rcuda
