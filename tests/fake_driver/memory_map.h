// TEST EQUIPMENT: where the fake CUDA driver keeps track of memory.
//
// "Device" memory is host memory of the process (mmap'd pages), so device
// pointers are host addresses, as rcuda's test backend does. The map is what
// lets every call and every host kernel check that a range lies inside memory
// the program allocated, and refuse it (CUDA_ERROR_INVALID_VALUE, or a fault)
// instead of touching a wild pointer. Guarded by the driver's lock.
#pragma once

#include <cstdint>
#include <map>

namespace fake {

struct MemoryPool;

struct Allocation {
  enum class Kind { kDevice, kPool, kVariable, kPinnedHost, kRegisteredHost, kArray };
  uint64_t base = 0;
  uint64_t size = 0;
  Kind kind = Kind::kDevice;
  int device = 0;
  MemoryPool* pool = nullptr;  // kPool
  bool free_pending = false;   // cuMemFreeAsync queued, not yet reached
};

class MemoryMap {
 public:
  void Add(const Allocation& a) { by_base_[a.base] = a; }
  void Remove(uint64_t base) { by_base_.erase(base); }
  // The allocation starting exactly at `base`, or nullptr.
  Allocation* AtBase(uint64_t base);
  // The allocation containing [p, p+bytes), or nullptr. bytes 0 asks for p alone.
  const Allocation* Containing(uint64_t p, uint64_t bytes) const;
  bool Contains(uint64_t p, uint64_t bytes) const { return Containing(p, bytes) != nullptr; }

  template <class Fn>
  void ForEach(Fn&& fn) const {
    for (const auto& [base, a] : by_base_) fn(a);
  }

 private:
  std::map<uint64_t, Allocation> by_base_;
};

// Page-backed memory that costs nothing until touched (MAP_NORESERVE), so a
// fake GPU of several GiB fits a CI machine. Zero-filled. nullptr on failure.
void* MapPages(uint64_t size);
void UnmapPages(void* p, uint64_t size);

}  // namespace fake
