#include "word_lookup.h"

#include <algorithm>

#include "alphabet.h"
#include "blosum62.h"

namespace gpu_blastp {

WordLookup::WordLookup(const uint8_t* query, int32_t query_length, int32_t threshold) : offsets_(kWordCodes + 1, 0) {
  int row_max[kAlphabetSize];
  for (int a = 0; a < kAlphabetSize; ++a) row_max[a] = *std::max_element(kBlosum62[a], kBlosum62[a] + kAlphabetSize);

  // Two passes over the neighbourhoods: count, then place, so positions
  // come out grouped by word and increasing within a word.
  auto for_each_neighbour = [&](auto&& visit) {
    for (int32_t q = 0; q + 3 <= query_length; ++q) {
      const uint8_t q0 = query[q], q1 = query[q + 1], q2 = query[q + 2];
      for (int a = 0; a < kAlphabetSize; ++a) {
        const int s0 = kBlosum62[q0][a];
        if (s0 + row_max[q1] + row_max[q2] < threshold) continue;
        for (int b = 0; b < kAlphabetSize; ++b) {
          const int s1 = s0 + kBlosum62[q1][b];
          if (s1 + row_max[q2] < threshold) continue;
          for (int c = 0; c < kAlphabetSize; ++c) {
            if (s1 + kBlosum62[q2][c] >= threshold) visit((uint32_t(a) << 10) | (uint32_t(b) << 5) | uint32_t(c), q);
          }
        }
      }
    }
  };
  for_each_neighbour([&](uint32_t code, int32_t) { ++offsets_[code + 1]; });
  for (int i = 0; i < kWordCodes; ++i) offsets_[i + 1] += offsets_[i];
  positions_.resize(offsets_[kWordCodes]);
  std::vector<uint32_t> fill(offsets_.begin(), offsets_.end() - 1);
  for_each_neighbour([&](uint32_t code, int32_t q) { positions_[fill[code]++] = q; });
}

}  // namespace gpu_blastp
