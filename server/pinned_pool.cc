#include "server/pinned_pool.h"

#include <algorithm>

namespace rcuda {

void* PinnedPool::Acquire(CudaDriver& drv, size_t size) {
  size_t rounded = std::max<size_t>(size, 1 << 16);
  std::vector<std::pair<void*, size_t>> unused;
  bool taken = false;
  {
    MutexLock lock(&mu_);
    for (size_t i = 0; i < free_.size(); ++i) {
      if (free_[i].second >= size) {
        void* p = free_[i].first;
        sizes_[p] = free_[i].second;
        free_.erase(free_.begin() + i);
        return p;
      }
    }
    taken = budget_->Take(rounded);
    if (!taken) unused.swap(free_);  // none of them fits: make room
  }
  // The driver is called without the lock: a delivery on a driver thread
  // may be waiting for it in Release.
  if (!taken) {
    for (auto& [p, bytes] : unused) {
      drv.cuMemFreeHost(p);
      budget_->Give(bytes);
    }
    if (!budget_->Take(rounded)) return nullptr;
  }
  void* p = nullptr;
  if (drv.cuMemHostAlloc(&p, rounded, 0) != CUDA_SUCCESS) {
    budget_->Give(rounded);
    return nullptr;
  }
  MutexLock lock(&mu_);
  sizes_[p] = rounded;
  return p;
}

void PinnedPool::Release(void* buffer) {
  MutexLock lock(&mu_);
  free_.emplace_back(buffer, sizes_[buffer]);
  sizes_.erase(buffer);
}

void PinnedPool::FreeAll(CudaDriver& drv) {
  MutexLock lock(&mu_);
  for (auto& [p, size] : free_) {
    drv.cuMemFreeHost(p);
    budget_->Give(size);
  }
  free_.clear();
}

}  // namespace rcuda
