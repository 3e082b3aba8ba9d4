#include "server/host_segment_table.h"

#include <string>

#include "common/cuda_error_codes.h"

namespace rcuda {

Status HostSegmentTable::CheckRoom(uint64_t size) const {
  if (segments_.size() >= max_count_) {
    return Status::Cuda(kCudaErrorMemoryAllocation,
                        "the session holds " + std::to_string(max_count_) + " pinned host segments, the most allowed");
  }
  if (size > max_bytes_ || bytes_ > max_bytes_ - size) {
    return Status::Cuda(kCudaErrorMemoryAllocation, "a pinned host segment of " + std::to_string(size) +
                                                        " bytes exceeds the session's " + std::to_string(max_bytes_) +
                                                        " (--session-pinned-bytes; " + std::to_string(bytes_) +
                                                        " held)");
  }
  return Status::Ok();
}

uint64_t HostSegmentTable::Add(const HostSegment& segment) {
  uint64_t id = next_id_++;
  segments_[id] = segment;
  bytes_ += segment.size;
  return id;
}

bool HostSegmentTable::Remove(uint64_t id, HostSegment* segment) {
  auto it = segments_.find(id);
  if (it == segments_.end()) return false;
  *segment = it->second;
  bytes_ -= it->second.size;
  segments_.erase(it);
  return true;
}

Status HostSegmentTable::Resolve(uint64_t id, uint64_t offset, uint64_t size, void** host) const {
  auto it = segments_.find(id);
  if (it == segments_.end()) {
    return Status::Cuda(kCudaErrorInvalidValue, "host segment " + std::to_string(id) + " is not the session's");
  }
  const uint64_t limit = it->second.size;
  if (offset > limit || size > limit - offset) {
    return Status::Cuda(kCudaErrorInvalidValue, "bytes [" + std::to_string(offset) + ", +" + std::to_string(size) +
                                                    ") lie outside host segment " + std::to_string(id) + " of " +
                                                    std::to_string(limit) + " bytes");
  }
  *host = static_cast<char*>(it->second.host) + offset;
  return Status::Ok();
}

std::vector<HostSegment> HostSegmentTable::TakeAll() {
  std::vector<HostSegment> all;
  for (const auto& [id, s] : segments_) all.push_back(s);
  segments_.clear();
  bytes_ = 0;
  return all;
}

}  // namespace rcuda
