// Host memory an executor holds for one session beyond its fixed staging:
// pinned buffers of device-to-host copies that wait on busy streams or are
// delivered asynchronously, and graphs' staging. Capped per session
// (ExecutorOptions::host_staging_bytes) so that one session cannot pin the
// host's memory; a request that finds the budget spent takes a slower path
// that needs none, or fails with cudaErrorMemoryAllocation.
#pragma once

#include <atomic>
#include <cstdint>

namespace rcuda {

class HostBudget {
 public:
  explicit HostBudget(uint64_t limit) : limit_(limit) {}

  // Thread-safe: buffers are given back from driver threads.
  bool Take(uint64_t bytes) {
    uint64_t used = used_.load();
    do {
      if (used > limit_ || bytes > limit_ - used) return false;
    } while (!used_.compare_exchange_weak(used, used + bytes));
    return true;
  }
  void Give(uint64_t bytes) { used_.fetch_sub(bytes); }
  uint64_t used() const { return used_.load(); }
  uint64_t limit() const { return limit_; }

 private:
  const uint64_t limit_;
  std::atomic<uint64_t> used_{0};
};

}  // namespace rcuda
