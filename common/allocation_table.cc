#include "common/allocation_table.h"

#include <algorithm>

namespace rcuda {

void AllocationTable::Add(uint64_t base, uint64_t size, Kind kind) {
  ranges_[base] = Range{size, kind};
  if (kind == Kind::kMalloc) malloc_bytes_ += size;
}

bool AllocationTable::RemoveMalloc(uint64_t base, uint64_t* size) {
  auto it = ranges_.find(base);
  if (it == ranges_.end() || it->second.kind != Kind::kMalloc) return false;
  malloc_bytes_ -= it->second.size;
  if (size) *size = it->second.size;
  ranges_.erase(it);
  return true;
}

bool AllocationTable::RemoveVariable(uint64_t base) {
  auto it = ranges_.find(base);
  if (it == ranges_.end() || it->second.kind != Kind::kVariable) return false;
  ranges_.erase(it);
  return true;
}

bool AllocationTable::Contains(uint64_t ptr, uint64_t size) const {
  auto it = ranges_.upper_bound(ptr);
  if (it == ranges_.begin()) return false;
  --it;
  uint64_t offset = ptr - it->first;
  // A zero-byte range is "inside" only at its base (cudaMalloc(0) is legal).
  if (it->second.size == 0) return offset == 0 && size == 0;
  return offset < it->second.size && size <= it->second.size - offset;
}

bool AllocationTable::Find(uint64_t ptr, uint64_t* base, uint64_t* size) const {
  auto it = ranges_.upper_bound(ptr);
  if (it == ranges_.begin()) return false;
  --it;
  if (ptr - it->first >= std::max<uint64_t>(it->second.size, 1)) return false;
  *base = it->first;
  *size = it->second.size;
  return true;
}

}  // namespace rcuda
