// Pinned host buffers for device-to-host copies that land in host memory the
// executor owns (deferred and asynchronous copies), reused from copy to copy.
//
// Threads: Acquire and FreeAll run on the session thread; Release also runs
// on the driver's threads (a delivery's host function gives its buffer back)
// and on the wait pool's. The lists are guarded by mu_. What the pool pins
// counts against the session's host budget: past it, free buffers too small
// are given back first, then Acquire fails and the caller takes a path that
// needs none.
#pragma once

#include <cstddef>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/mutex.h"
#include "server/cuda_driver.h"
#include "server/host_budget.h"

namespace rcuda {

class PinnedPool {
 public:
  explicit PinnedPool(HostBudget* budget) : budget_(budget) {}
  PinnedPool(const PinnedPool&) = delete;
  PinnedPool& operator=(const PinnedPool&) = delete;

  // A buffer of at least `size` bytes, or nullptr when the budget or the
  // driver refuses.
  void* Acquire(CudaDriver& drv, size_t size) EXCLUDES(mu_);
  // Gives back a buffer of Acquire, for reuse. Any thread.
  void Release(void* buffer) EXCLUDES(mu_);
  // Frees the buffers not in use (at the end of the session).
  void FreeAll(CudaDriver& drv) EXCLUDES(mu_);

 private:
  HostBudget* const budget_;  // thread-safe itself
  Mutex mu_;
  std::vector<std::pair<void*, size_t>> free_ GUARDED_BY(mu_);
  std::unordered_map<void*, size_t> sizes_ GUARDED_BY(mu_);  // buffers in use
};

}  // namespace rcuda
