// The parameters of a search: BLASTP's defaults (BLOSUM62, gap costs 11/1,
// words of 3, threshold 11, two-hit window 40) and the raw-score values
// derived from them. One struct, so the CPU and GPU paths cannot disagree.
#pragma once

#include <cstdint>

namespace gpu_blastp {

// Karlin-Altschul parameters of BLOSUM62 with BLAST's background
// frequencies: ungapped (used to turn the X-drop and trigger values, given
// in bits, into raw scores) and with gap costs 11/1 (used for E-values),
// as NCBI BLAST tabulates them.
struct KarlinParams {
  double lambda;
  double k;
  double h;
  double alpha;  // length adjustment: alpha / lambda is the slope
  double beta;   // and beta the intercept
};
inline constexpr KarlinParams kUngappedBlosum62{0.3176, 0.134, 0.4012, 0.7916, -3.2};
inline constexpr KarlinParams kGappedBlosum62_11_1{0.267, 0.041, 0.14, 1.9, -30.0};

// What the scan kernels need, in raw score units (plain ints so it can be
// passed to a CUDA kernel by value).
struct ScanParams {
  int32_t word_size;       // 3 (the scan code assumes 3)
  int32_t threshold;       // neighbourhood threshold T: a word pair scoring >= T seeds
  int32_t window;          // two-hit window A
  int32_t xdrop_ungapped;  // X-drop of the ungapped extension
  int32_t gap_trigger;     // an ungapped HSP scoring >= this goes to gapped extension
};

struct SearchParams {
  // User-facing values (bits where BLAST gives bits).
  int word_size = 3;
  int threshold = 11;
  int window = 40;
  double xdrop_ungapped_bits = 7.0;
  double gap_trigger_bits = 22.0;
  double xdrop_gapped_bits = 15.0;        // preliminary, score-only extension
  double xdrop_gapped_final_bits = 25.0;  // final extension with traceback
  int gap_open = 11;
  int gap_extend = 1;
  double evalue = 10.0;
  int max_target_seqs = 500;

  // Raw values derived as NCBI BLAST derives them.
  ScanParams Scan() const;
  int XdropGappedRaw() const;
  int XdropGappedFinalRaw() const;
};

}  // namespace gpu_blastp
