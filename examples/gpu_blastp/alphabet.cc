#include "alphabet.h"

#include <array>

namespace gpu_blastp {

namespace {

std::array<uint8_t, 256> BuildEncodeTable() {
  std::array<uint8_t, 256> table{};
  table.fill(0xFF);
  for (int c = 'A'; c <= 'Z'; ++c) {
    table[c] = kResidueX;
    table[c - 'A' + 'a'] = kResidueX;
  }
  table['*'] = 24;
  for (int code = 0; code < kAlphabetSize; ++code) {
    char upper = kResidueLetters[code];
    table[static_cast<uint8_t>(upper)] = static_cast<uint8_t>(code);
    if (upper >= 'A' && upper <= 'Z') table[static_cast<uint8_t>(upper - 'A' + 'a')] = static_cast<uint8_t>(code);
  }
  return table;
}

}  // namespace

uint8_t EncodeResidue(char letter) {
  static const std::array<uint8_t, 256> table = BuildEncodeTable();
  return table[static_cast<uint8_t>(letter)];
}

}  // namespace gpu_blastp
