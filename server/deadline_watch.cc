#include "server/deadline_watch.h"

#include <algorithm>

namespace rcuda {

DeadlineWatch::DeadlineWatch() : thread_([this] { Loop(); }) {}

DeadlineWatch::~DeadlineWatch() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

uint64_t DeadlineWatch::Arm(Connection* connection, Clock::time_point deadline) {
  std::lock_guard lock(mu_);
  uint64_t id = ++next_id_;
  entries_[id] = Entry{connection, deadline};
  cv_.notify_all();
  return id;
}

bool DeadlineWatch::Disarm(uint64_t id) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return false;
  bool expired = it->second.expired;
  entries_.erase(it);
  return expired;
}

void DeadlineWatch::ExpireAll() {
  std::lock_guard lock(mu_);
  for (auto& [id, e] : entries_) {
    if (!e.expired) e.connection->Shutdown();
    e.expired = true;
  }
}

size_t DeadlineWatch::armed() {
  std::lock_guard lock(mu_);
  return entries_.size();
}

void DeadlineWatch::Loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    auto now = Clock::now();
    auto next = Clock::time_point::max();
    for (auto& [id, e] : entries_) {
      if (e.expired) continue;
      if (e.deadline <= now) {
        // Under the lock: Disarm waits for it, so the connection is alive.
        e.connection->Shutdown();
        e.expired = true;
      } else {
        next = std::min(next, e.deadline);
      }
    }
    if (next == Clock::time_point::max()) {
      cv_.wait(lock);
    } else {
      cv_.wait_until(lock, next);
    }
  }
}

}  // namespace rcuda
