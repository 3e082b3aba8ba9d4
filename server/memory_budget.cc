#include "server/memory_budget.h"

#include <algorithm>
#include <limits>

namespace rcuda {

void MemoryBudget::Configure(uint64_t limit, std::unique_ptr<LeaseMemory> shared, int slot) {
  limit_ = limit;
  shared_ = std::move(shared);
  slot_ = slot;
}

bool MemoryBudget::Charge(uint64_t bytes) {
  if (limit_ == 0) {
    charged_ += bytes;
    return true;
  }
  if (shared_) {
    if (!shared_->Charge(slot_, bytes, limit_)) return false;
  } else if (charged_ > limit_ || bytes > limit_ - charged_) {
    return false;
  }
  charged_ += bytes;
  return true;
}

void MemoryBudget::ForceCharge(uint64_t bytes) {
  if (shared_) shared_->ForceCharge(slot_, bytes);
  charged_ += bytes;
}

void MemoryBudget::Release(uint64_t bytes) {
  bytes = std::min(bytes, charged_);
  if (shared_) shared_->Release(slot_, bytes);
  charged_ -= bytes;
}

uint64_t MemoryBudget::available() const {
  if (limit_ == 0) return std::numeric_limits<uint64_t>::max();
  uint64_t used = shared_ ? shared_->Total() : charged_;
  return used >= limit_ ? 0 : limit_ - used;
}

}  // namespace rcuda
