// The device memory a session owns: every range it may touch. The server
// refuses copies, memsets and frees through anything else with
// cudaErrorInvalidValue before they reach the GPU; the client uses the same
// table to find which device a pointer belongs to and to refuse bad
// pointers without a round trip.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>

namespace rcuda {

class AllocationTable {
 public:
  enum class Kind { kMalloc, kVariable };

  void Add(uint64_t base, uint64_t size, Kind kind);
  // Removes a cudaMalloc'ed range by its base address; false if `base` is
  // not the start of one.
  bool RemoveMalloc(uint64_t base, uint64_t* size = nullptr);
  // Removes a module variable's range by its base (its module was
  // unloaded); false if `base` is not the start of one.
  bool RemoveVariable(uint64_t base);
  // True when [ptr, ptr + size) lies inside one range.
  bool Contains(uint64_t ptr, uint64_t size) const;
  // The range containing ptr.
  bool Find(uint64_t ptr, uint64_t* base, uint64_t* size) const;
  void Clear() { ranges_.clear(); malloc_bytes_ = 0; }

  // Bytes currently held through cudaMalloc (module variables excluded).
  uint64_t malloc_bytes() const { return malloc_bytes_; }
  size_t count() const { return ranges_.size(); }

 private:
  struct Range {
    uint64_t size;
    Kind kind;
  };
  std::map<uint64_t, Range> ranges_;
  uint64_t malloc_bytes_ = 0;
};

}  // namespace rcuda
