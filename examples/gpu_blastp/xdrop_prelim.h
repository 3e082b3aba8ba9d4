// The preliminary gapped extension, shared verbatim by the CPU path and
// the CUDA kernel (like two_hit.h for the scan): choose the seed point of an
// ungapped HSP, then X-drop dynamic programming with affine gaps, score
// only, left and right of the seed.
//
// The DP rows live in a circular buffer of `width` columns (a power of
// two), so a GPU thread can keep them in a small fixed array. If an
// extension's band ever gets wider than that, the function says so
// (overflow) instead of answering, and the caller computes that HSP again
// with a buffer as wide as the subject: same code, same result.
#pragma once

#include <cstdint>

#include "two_hit.h"

namespace gpu_blastp {

struct PrelimResult {
  int32_t score;
  int32_t q_start, q_end;  // half-open
  int32_t s_start, s_end;
  int32_t q_seed, s_seed;
  int32_t overflow;  // 1: the band did not fit; nothing else is valid
};

// Where the gapped extension of an ungapped HSP starts, as BLAST chooses
// it: the middle of the best-scoring window of 11 residue pairs, moved to
// the first pair of that window with a positive score if the middle one is
// not positive.
GB_HOST_DEVICE void SeedPoint(const int8_t* matrix, const uint8_t* query, const uint8_t* subject,
                              const UngappedHsp& h, int32_t* q_seed, int32_t* s_seed) {
  const int32_t kWindow = 11;
#define GB_HSP_PAIR(k) GB_SCORE(matrix, query[h.q_start + (k)], subject[h.s_start + (k)])
  int32_t best_offset = h.length / 2;
  if (h.length > kWindow) {
    int32_t sum = 0;
    for (int32_t k = 0; k < kWindow; ++k) sum += GB_HSP_PAIR(k);
    int32_t best = sum, best_first = 0;
    for (int32_t k = kWindow; k < h.length; ++k) {
      sum += GB_HSP_PAIR(k) - GB_HSP_PAIR(k - kWindow);
      if (sum > best) {
        best = sum;
        best_first = k - kWindow + 1;
      }
    }
    best_offset = best_first + kWindow / 2;
    if (GB_HSP_PAIR(best_offset) <= 0) {
      for (int32_t k = best_first; k < best_first + kWindow; ++k) {
        if (GB_HSP_PAIR(k) > 0) {
          best_offset = k;
          break;
        }
      }
    }
  }
#undef GB_HSP_PAIR
  *q_seed = h.q_start + best_offset;
  *s_seed = h.s_start + best_offset;
}

// X-drop DP from the origin: a is read at a[i] (dir > 0) or a[-1 - i]
// (dir < 0), b likewise. Gap of length k costs gap_open + k * gap_extend.
// Returns 0 on overflow, else 1 with the best score and the residues of a
// and b consumed at the best cell (first best in row-major order).
GB_HOST_DEVICE int XdropScoreOnly(const int8_t* matrix, const uint8_t* a, int32_t a_length, const uint8_t* b,
                                  int32_t b_length, int32_t dir, int32_t gap_open, int32_t gap_extend, int32_t xdrop,
                                  int32_t* h_row, int32_t* f_row, int32_t width, int32_t* best_score,
                                  int32_t* a_used, int32_t* b_used) {
  const int32_t kDead = -(1 << 29);
  const int32_t mask = width - 1;
  const int32_t oe = gap_open + gap_extend;
  int32_t best = 0, best_i = 0, best_j = 0;
  // Row 0: the origin, then a gap consuming b.
  h_row[0] = 0;
  f_row[0] = kDead;
  int32_t lo = 0, hi = 1;
  for (int32_t j = 1; j <= b_length; ++j) {
    const int32_t v = -(gap_open + j * gap_extend);
    if (v < -xdrop) break;
    if (j >= width) return 0;
    h_row[j & mask] = v;
    f_row[j & mask] = kDead;
    hi = j + 1;
  }
  for (int32_t i = 1; i <= a_length; ++i) {
    const int32_t ai = dir > 0 ? a[i - 1] : a[-i];
    const int8_t* row = matrix + (ai << 5);
    int32_t new_lo = -1, new_hi = -1;
    int32_t e = kDead, h_left = kDead, diag = kDead;
    for (int32_t j = lo; j <= b_length; ++j) {
      if (j - lo >= width) return 0;
      const int32_t slot = j & mask;
      const bool above = j < hi;
      const int32_t h_up = above ? h_row[slot] : kDead;
      const int32_t f_up = above ? f_row[slot] : kDead;
      const int32_t f_open = h_up - oe, f_ext = f_up - gap_extend;
      int32_t f = f_open > f_ext ? f_open : f_ext;
      const int32_t e_open = h_left - oe, e_ext = e - gap_extend;
      e = e_open > e_ext ? e_open : e_ext;
      int32_t h = kDead;
      if (j > 0 && diag > kDead) h = diag + row[dir > 0 ? b[j - 1] : b[-j]];
      if (e > h) h = e;
      if (f > h) h = f;
      diag = h_up;
      if (h < best - xdrop || h <= kDead / 2) {
        h = e = f = kDead;
      } else {
        if (new_lo < 0) new_lo = j;
        new_hi = j + 1;
        if (h > best) {
          best = h;
          best_i = i;
          best_j = j;
        }
      }
      h_row[slot] = h;
      f_row[slot] = f;
      h_left = h;
      if (!above && h == kDead) break;  // beyond the last row's band nothing comes back
    }
    if (new_lo < 0) break;
    lo = new_lo;
    hi = new_hi;
  }
  *best_score = best;
  *a_used = best_i;
  *b_used = best_j;
  return 1;
}

// The preliminary extension of one ungapped HSP. scratch holds 2 * width
// int32s.
GB_HOST_DEVICE PrelimResult PrelimExtend(const int8_t* matrix, const uint8_t* query, int32_t query_length,
                                         const uint8_t* subject, int32_t subject_length, const UngappedHsp& h,
                                         int32_t gap_open, int32_t gap_extend, int32_t xdrop, int32_t* scratch,
                                         int32_t width) {
  PrelimResult r;
  SeedPoint(matrix, query, subject, h, &r.q_seed, &r.s_seed);
  int32_t left = 0, left_a = 0, left_b = 0, right = 0, right_a = 0, right_b = 0;
  const int ok_left = XdropScoreOnly(matrix, query + r.q_seed, r.q_seed, subject + r.s_seed, r.s_seed, -1, gap_open,
                                     gap_extend, xdrop, scratch, scratch + width, width, &left, &left_a, &left_b);
  const int ok_right = ok_left && XdropScoreOnly(matrix, query + r.q_seed, query_length - r.q_seed,
                                                 subject + r.s_seed, subject_length - r.s_seed, +1, gap_open,
                                                 gap_extend, xdrop, scratch, scratch + width, width, &right,
                                                 &right_a, &right_b);
  r.overflow = ok_right ? 0 : 1;
  r.score = left + right;
  r.q_start = r.q_seed - left_a;
  r.s_start = r.s_seed - left_b;
  r.q_end = r.q_seed + right_a;
  r.s_end = r.s_seed + right_b;
  return r;
}

}  // namespace gpu_blastp
