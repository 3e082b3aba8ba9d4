// The compact database that gpu_blastp searches: every sequence's residues
// (alphabet.h codes, one byte each) back to back, the start of each sequence,
// and the identifiers. gpu_blastp_makedb writes it once from FASTA; searches
// map it into memory, and the GPU path copies the residues and starts to
// the device as they are.
//
// File layout (little-endian):
//   header (64 bytes): magic "GBLASTDB", u32 version, u32 0, u64 sequences,
//     u64 residues, u64 residues_offset, u64 starts_offset, u64 ids_offset,
//     u64 file_size
//   residues: u8[residues]
//   starts:   u64[sequences + 1], starts[i] = offset of sequence i in residues
//   ids:      u64[sequences + 1] offsets into the characters that follow
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "status.h"

namespace gpu_blastp {

inline constexpr char kDbMagic[8] = {'G', 'B', 'L', 'A', 'S', 'T', 'D', 'B'};
inline constexpr uint32_t kDbVersion = 1;

class SequenceDb {
 public:
  SequenceDb() = default;
  ~SequenceDb();
  SequenceDb(const SequenceDb&) = delete;
  SequenceDb& operator=(const SequenceDb&) = delete;

  Status Open(const std::string& path);

  uint64_t size() const { return sequences_; }
  uint64_t total_residues() const { return residues_; }
  const uint8_t* residues() const { return residue_data_; }
  const uint64_t* starts() const { return starts_; }
  const uint8_t* sequence(uint64_t i) const { return residue_data_ + starts_[i]; }
  uint32_t length(uint64_t i) const { return static_cast<uint32_t>(starts_[i + 1] - starts_[i]); }
  std::string_view id(uint64_t i) const;
  uint32_t max_length() const { return max_length_; }

 private:
  void* map_ = nullptr;
  size_t map_size_ = 0;
  uint64_t sequences_ = 0;
  uint64_t residues_ = 0;
  uint32_t max_length_ = 0;
  const uint8_t* residue_data_ = nullptr;
  const uint64_t* starts_ = nullptr;
  const uint64_t* id_starts_ = nullptr;
  const char* id_chars_ = nullptr;
};

// Writes a database sequence by sequence.
class SequenceDbWriter {
 public:
  ~SequenceDbWriter();
  Status Create(const std::string& path);
  Status Add(std::string_view id, const uint8_t* residues, size_t length);
  Status Finish();

 private:
  std::FILE* file_ = nullptr;
  std::string path_;
  std::vector<uint64_t> starts_{0};
  std::vector<uint64_t> id_starts_{0};
  std::string ids_;
};

}  // namespace gpu_blastp
