// Keeps the most recent latency samples of one kind and answers percentiles
// over them (ssgmd's decision latency, the burst benchmark's figures).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace rcuda::sched {

class LatencyRecorder {
 public:
  explicit LatencyRecorder(size_t capacity = 1 << 16) : capacity_(capacity) { samples_.reserve(capacity); }

  void Add(uint64_t nanoseconds) {
    ++count_;
    max_ = std::max(max_, nanoseconds);
    if (samples_.size() < capacity_) {
      samples_.push_back(nanoseconds);
    } else {
      samples_[next_] = nanoseconds;
      next_ = (next_ + 1) % capacity_;
    }
  }
  void Reset() {
    samples_.clear();
    next_ = 0;
    count_ = 0;
    max_ = 0;
  }

  uint64_t count() const { return count_; }   // all samples ever added
  size_t kept() const { return samples_.size(); }
  uint64_t max() const { return max_; }
  // Nearest-rank percentile (0 < p <= 100) over the kept samples; 0 if none.
  uint64_t Percentile(double p) const {
    if (samples_.empty()) return 0;
    std::vector<uint64_t> sorted(samples_);
    size_t rank = size_t(p / 100.0 * double(sorted.size()) + 0.999999);
    rank = std::clamp<size_t>(rank, 1, sorted.size());
    std::nth_element(sorted.begin(), sorted.begin() + (rank - 1), sorted.end());
    return sorted[rank - 1];
  }

 private:
  size_t capacity_;
  std::vector<uint64_t> samples_;
  size_t next_ = 0;
  uint64_t count_ = 0;
  uint64_t max_ = 0;
};

}  // namespace rcuda::sched
