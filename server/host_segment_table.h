// The host segments of one session (protocol/host_segment.h): the client's
// pinned buffers, mapped into the worker and registered with the driver.
// Capped in number and in bytes, since each is memory the worker maps and
// the driver pins; every copy's (segment, offset, size) is checked here
// before it reaches the driver. Only the session's thread uses it.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "common/status.h"

namespace rcuda {

// What one session may map by default (--session-pinned-bytes).
inline constexpr uint64_t kDefaultSessionPinnedBytes = 16ull << 30;

struct HostSegment {
  void* host = nullptr;  // the worker's mapping
  uint64_t size = 0;
};

class HostSegmentTable {
 public:
  HostSegmentTable(uint64_t max_bytes, size_t max_count) : max_bytes_(max_bytes), max_count_(max_count) {}

  // Whether one more segment of `size` bytes fits the caps:
  // cudaErrorMemoryAllocation when it does not.
  Status CheckRoom(uint64_t size) const;
  // Records a mapped segment; returns its id (never 0).
  uint64_t Add(const HostSegment& segment);
  // Takes a segment out; false for an id the session does not hold.
  bool Remove(uint64_t id, HostSegment* segment);
  // The worker's address of [offset, offset + size) in segment `id`:
  // cudaErrorInvalidValue for an unknown id or a range outside it.
  Status Resolve(uint64_t id, uint64_t offset, uint64_t size, void** host) const;
  // Every segment, taken out (the session ends).
  std::vector<HostSegment> TakeAll();

  uint64_t bytes() const { return bytes_; }
  size_t count() const { return segments_.size(); }

 private:
  const uint64_t max_bytes_;
  const size_t max_count_;
  std::map<uint64_t, HostSegment> segments_;
  uint64_t bytes_ = 0;
  uint64_t next_id_ = 1;
};

}  // namespace rcuda
