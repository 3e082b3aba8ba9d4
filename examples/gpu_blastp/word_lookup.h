// The CPU scan's index of the query: for every word of 3 residues (coded
// in 5 bits each), the query positions whose word scores >= T against it
// (BLAST's neighbourhood words).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace gpu_blastp {

inline constexpr int kWordCodes = 32 * 32 * 32;

inline uint32_t WordCode(const uint8_t* w) { return (uint32_t{w[0]} << 10) | (uint32_t{w[1]} << 5) | w[2]; }

class WordLookup {
 public:
  WordLookup(const uint8_t* query, int32_t query_length, int32_t threshold);

  // Query positions of the neighbours of word `code`, in increasing order.
  const int32_t* begin(uint32_t code) const { return positions_.data() + offsets_[code]; }
  const int32_t* end(uint32_t code) const { return positions_.data() + offsets_[code + 1]; }
  size_t total() const { return positions_.size(); }

 private:
  std::vector<uint32_t> offsets_;  // kWordCodes + 1
  std::vector<int32_t> positions_;
};

}  // namespace gpu_blastp
