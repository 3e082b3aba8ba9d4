#include "karlin.h"

#include <algorithm>
#include <cmath>

namespace gpu_blastp {

int64_t LengthAdjustment(const KarlinParams& kp, int64_t query_length, int64_t db_length, int64_t db_sequences) {
  const double m = static_cast<double>(query_length);
  const double n = static_cast<double>(db_length);
  const double nseq = static_cast<double>(db_sequences);
  const double log_k = std::log(kp.k);
  const double alpha_d_lambda = kp.alpha / kp.lambda;
  const double beta = kp.beta;

  // ell_max: the largest ell with K (m - ell)(n - N ell) > max(m, n).
  const double a = nseq;
  const double mb = m * nseq + n;
  const double c = n * m - std::max(m, n) / kp.k;
  if (c < 0) return 0;
  double ell_max = 2 * c / (mb + std::sqrt(mb * mb - 4 * a * c));
  double ell_min = 0;
  double ell_next = 0;
  bool converged = false;
  for (int i = 1; i <= 20; ++i) {
    const double ell = ell_next;
    const double space = (m - ell) * (n - nseq * ell);
    const double ell_bar = alpha_d_lambda * (log_k + std::log(space)) + beta;
    if (ell_bar >= ell) {
      ell_min = ell;
      if (ell_bar - ell_min <= 1.0) {
        converged = true;
        break;
      }
      if (ell_min == ell_max) break;
    } else {
      ell_max = ell;
    }
    if (ell_min <= ell_bar && ell_bar <= ell_max) {
      ell_next = ell_bar;
    } else {
      ell_next = (i == 1) ? ell_max : (ell_min + ell_max) / 2;
    }
  }
  int64_t result = static_cast<int64_t>(ell_min);
  if (converged) {
    // floor(ell_min) is the answer unless ceil(ell_min) is still below the fixed point.
    const double ell = std::ceil(ell_min);
    if (ell <= ell_max) {
      const double space = (m - ell) * (n - nseq * ell);
      if (alpha_d_lambda * (log_k + std::log(space)) + beta >= ell) result = static_cast<int64_t>(ell);
    }
  }
  return result;
}

SearchSpace::SearchSpace(const KarlinParams& kp, int64_t query_length, int64_t db_length, int64_t db_sequences)
    : kp_(kp) {
  length_adjustment_ = LengthAdjustment(kp, query_length, db_length, db_sequences);
  // As BLAST: both effective lengths are at least 1.
  double eff_query = static_cast<double>(query_length - length_adjustment_);
  eff_query = std::max(eff_query, 1.0);
  double eff_db = static_cast<double>(db_length) - static_cast<double>(db_sequences * length_adjustment_);
  eff_db = std::max(eff_db, 1.0);
  effective_space_ = eff_query * eff_db;
}

double SearchSpace::EValue(int raw_score) const {
  return effective_space_ * kp_.k * std::exp(-kp_.lambda * raw_score);
}

double SearchSpace::BitScore(int raw_score) const {
  return (kp_.lambda * raw_score - std::log(kp_.k)) / std::log(2.0);
}

int SearchSpace::MinScoreForEValue(double evalue) const {
  // E = space K exp(-lambda S)  =>  S = ln(space K / E) / lambda.
  const double s = std::log(effective_space_ * kp_.k / evalue) / kp_.lambda;
  int score = std::max(1, static_cast<int>(std::ceil(s)));
  while (score > 1 && EValue(score - 1) <= evalue) --score;
  while (EValue(score) > evalue) ++score;
  return score;
}

}  // namespace gpu_blastp
