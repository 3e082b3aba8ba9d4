#include "search_params.h"

#include <cmath>

namespace gpu_blastp {

namespace {
constexpr double kLn2 = 0.69314718055994530942;
}

ScanParams SearchParams::Scan() const {
  ScanParams p;
  p.word_size = word_size;
  p.threshold = threshold;
  p.window = window;
  // BLAST: ceil(bits * ln2 / lambda_ungapped) for the ungapped X-drop, and
  // (bits * ln2 + ln K) / lambda for the gap trigger, truncated.
  p.xdrop_ungapped = static_cast<int32_t>(std::ceil(xdrop_ungapped_bits * kLn2 / kUngappedBlosum62.lambda));
  p.gap_trigger = static_cast<int32_t>((gap_trigger_bits * kLn2 + std::log(kUngappedBlosum62.k)) /
                                       kUngappedBlosum62.lambda);
  return p;
}

int SearchParams::XdropGappedRaw() const {
  return static_cast<int>(xdrop_gapped_bits * kLn2 / kGappedBlosum62_11_1.lambda);
}

int SearchParams::XdropGappedFinalRaw() const {
  return static_cast<int>(xdrop_gapped_final_bits * kLn2 / kGappedBlosum62_11_1.lambda);
}

}  // namespace gpu_blastp
