// The final gapped extension: X-drop dynamic programming with affine gaps
// (Gotoh) from a seed point in both directions, as BLAST's semi-gapped
// alignment, with traceback for the hits that are reported. (The
// preliminary, score-only extension is xdrop_prelim.h, shared with the GPU.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace gpu_blastp {

struct GappedAlignment {
  int32_t score = 0;
  // Half-open ranges of the alignment in the query and the subject.
  int32_t q_start = 0, q_end = 0;
  int32_t s_start = 0, s_end = 0;
  // Filled by the traceback only.
  int32_t length = 0;  // columns, gaps included
  int32_t identities = 0;
  int32_t mismatches = 0;
  int32_t gap_opens = 0;
};

// One per thread: it owns the DP rows and the traceback buffer.
class GappedAligner {
 public:
  GappedAligner(int gap_open, int gap_extend) : gap_open_(gap_open), gap_extend_(gap_extend) {}

  // Extends left from (q_seed - 1, s_seed - 1) and right from
  // (q_seed, s_seed); the seed pair belongs to the right half.
  GappedAlignment Align(const uint8_t* query, int32_t query_length, const uint8_t* subject, int32_t subject_length,
                        int32_t q_seed, int32_t s_seed, int32_t xdrop, bool traceback);

 private:
  enum Op : uint8_t { kMatch = 0, kSubjectOnly = 1, kQueryOnly = 2 };
  // Aligns a (read at a[dir*i], or a[-1-i] when dir < 0) against b the same
  // way, anchored at the origin. Returns the best score; *a_used/*b_used get
  // the residues consumed at the best cell; ops (if not null) get the
  // operations from the origin outwards.
  int32_t Extend(const uint8_t* a, int32_t a_length, const uint8_t* b, int32_t b_length, int dir, int32_t xdrop,
                 int32_t* a_used, int32_t* b_used, std::vector<uint8_t>* ops);

  int gap_open_, gap_extend_;
  std::vector<int32_t> h_, f_;
  std::vector<uint8_t> trace_;
  std::vector<size_t> row_start_;
  std::vector<int32_t> row_lo_;
  std::vector<uint8_t> left_ops_, right_ops_;
};

}  // namespace gpu_blastp
