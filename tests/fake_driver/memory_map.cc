#include "tests/fake_driver/memory_map.h"

#include <sys/mman.h>

namespace fake {

Allocation* MemoryMap::AtBase(uint64_t base) {
  auto it = by_base_.find(base);
  return it == by_base_.end() ? nullptr : &it->second;
}

const Allocation* MemoryMap::Containing(uint64_t p, uint64_t bytes) const {
  auto it = by_base_.upper_bound(p);
  if (it == by_base_.begin()) return nullptr;
  --it;
  const Allocation& a = it->second;
  if (p < a.base || p - a.base > a.size) return nullptr;
  uint64_t room = a.size - (p - a.base);
  if (bytes == 0) return room > 0 ? &a : nullptr;
  return bytes <= room ? &a : nullptr;
}

void* MapPages(uint64_t size) {
  void* p = mmap(nullptr, size ? size : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

void UnmapPages(void* p, uint64_t size) { munmap(p, size ? size : 1); }

}  // namespace fake
