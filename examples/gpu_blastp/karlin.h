// Karlin-Altschul statistics of gapped BLOSUM62 11/1 hits: the length
// adjustment (BLAST's fixed-point iteration), E-values and bit scores.
#pragma once

#include <cstdint>

#include "search_params.h"

namespace gpu_blastp {

// BLAST's length adjustment ell: the expected length of an HSP, removed
// from the query and from every database sequence to get the effective
// search space. Same iteration as NCBI's BLAST_ComputeLengthAdjustment.
int64_t LengthAdjustment(const KarlinParams& kp, int64_t query_length, int64_t db_length, int64_t db_sequences);

class SearchSpace {
 public:
  SearchSpace(const KarlinParams& kp, int64_t query_length, int64_t db_length, int64_t db_sequences);

  double EValue(int raw_score) const;
  double BitScore(int raw_score) const;
  // The smallest raw score whose E-value is <= evalue.
  int MinScoreForEValue(double evalue) const;

  int64_t length_adjustment() const { return length_adjustment_; }
  double effective_space() const { return effective_space_; }

 private:
  KarlinParams kp_;
  int64_t length_adjustment_;
  double effective_space_;
};

}  // namespace gpu_blastp
