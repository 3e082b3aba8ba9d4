#include "gapped_align.h"

#include <algorithm>

#include "blosum62.h"

namespace gpu_blastp {

namespace {
constexpr int32_t kDead = -(1 << 29);
// Traceback byte: bits 0-1 the source of H (0 diagonal, 1 E, 2 F, 3 origin),
// bit 2 E was opened here (from H on the left), bit 3 F was opened here.
constexpr uint8_t kFromDiag = 0, kFromE = 1, kFromF = 2, kOrigin = 3;
constexpr uint8_t kEOpen = 4, kFOpen = 8;
}  // namespace

int32_t GappedAligner::Extend(const uint8_t* a, int32_t a_length, const uint8_t* b, int32_t b_length, int dir,
                              int32_t xdrop, int32_t* a_used, int32_t* b_used, std::vector<uint8_t>* ops) {
  auto A = [&](int32_t i) { return dir > 0 ? a[i] : a[-1 - i]; };
  auto B = [&](int32_t j) { return dir > 0 ? b[j] : b[-1 - j]; };
  const int32_t oe = gap_open_ + gap_extend_;
  const int32_t ext = gap_extend_;
  const bool trace = ops != nullptr;
  if (h_.size() < static_cast<size_t>(b_length) + 1) {
    h_.resize(b_length + 1);
    f_.resize(b_length + 1);
  }
  if (trace) {
    trace_.clear();
    row_start_.clear();
    row_lo_.clear();
  }

  int32_t best = 0, best_i = 0, best_j = 0;
  // Row 0: the origin, then a gap consuming b.
  h_[0] = 0;
  f_[0] = kDead;
  int32_t lo = 0, hi = 1;
  if (trace) {
    row_start_.push_back(0);
    row_lo_.push_back(0);
    trace_.push_back(kOrigin);
  }
  for (int32_t j = 1; j <= b_length; ++j) {
    const int32_t v = -(gap_open_ + j * ext);
    if (v < -xdrop) break;
    h_[j] = v;
    f_[j] = kDead;
    hi = j + 1;
    if (trace) trace_.push_back(kFromE | (j == 1 ? kEOpen : 0));
  }

  for (int32_t i = 1; i <= a_length; ++i) {
    const int8_t* row = kBlosum62[A(i - 1)];
    int32_t new_lo = -1, new_hi = -1;
    int32_t e = kDead, h_left = kDead, diag = kDead;
    if (trace) {
      row_start_.push_back(trace_.size());
      row_lo_.push_back(lo);
    }
    for (int32_t j = lo; j <= b_length; ++j) {
      const bool above = j < hi;
      const int32_t h_up = above ? h_[j] : kDead;
      const int32_t f_up = above ? f_[j] : kDead;
      const int32_t f_open = h_up - oe, f_ext = f_up - ext;
      int32_t f = std::max(f_open, f_ext);
      const int32_t e_open = h_left - oe, e_ext = e - ext;
      e = std::max(e_open, e_ext);
      int32_t h = j > 0 && diag > kDead ? diag + row[B(j - 1)] : kDead;
      uint8_t src = kFromDiag;
      if (e > h) {
        h = e;
        src = kFromE;
      }
      if (f > h) {
        h = f;
        src = kFromF;
      }
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
      h_[j] = h;
      f_[j] = f;
      h_left = h;
      if (trace) trace_.push_back(src | (e_open >= e_ext ? kEOpen : 0) | (f_open >= f_ext ? kFOpen : 0));
      if (!above && h == kDead) break;  // beyond the last row's band nothing can come back
    }
    if (new_lo < 0) break;
    lo = new_lo;
    hi = new_hi;
  }
  *a_used = best_i;
  *b_used = best_j;

  if (trace) {
    ops->clear();
    int32_t i = best_i, j = best_j;
    uint8_t state = 0;  // 0 H, 1 E, 2 F
    for (;;) {
      const uint8_t t = trace_[row_start_[i] + (j - row_lo_[i])];
      if (state == 0) {
        const uint8_t src = t & 3;
        if (src == kOrigin) break;
        if (src == kFromDiag) {
          ops->push_back(kMatch);
          --i;
          --j;
        } else {
          state = src;
        }
      } else if (state == 1) {
        ops->push_back(kSubjectOnly);
        if (t & kEOpen) state = 0;
        --j;
      } else {
        ops->push_back(kQueryOnly);
        if (t & kFOpen) state = 0;
        --i;
      }
    }
    std::reverse(ops->begin(), ops->end());
  }
  return best;
}

GappedAlignment GappedAligner::Align(const uint8_t* query, int32_t query_length, const uint8_t* subject,
                                     int32_t subject_length, int32_t q_seed, int32_t s_seed, int32_t xdrop,
                                     bool traceback) {
  GappedAlignment r;
  int32_t left_a = 0, left_b = 0, right_a = 0, right_b = 0;
  const int32_t left = Extend(query + q_seed, q_seed, subject + s_seed, s_seed, -1, xdrop, &left_a, &left_b,
                              traceback ? &left_ops_ : nullptr);
  const int32_t right = Extend(query + q_seed, query_length - q_seed, subject + s_seed, subject_length - s_seed, +1,
                               xdrop, &right_a, &right_b, traceback ? &right_ops_ : nullptr);
  r.score = left + right;
  r.q_start = q_seed - left_a;
  r.s_start = s_seed - left_b;
  r.q_end = q_seed + right_a;
  r.s_end = s_seed + right_b;
  if (!traceback) return r;

  // Walk the alignment from its start: the left half's operations reversed
  // (they run from the seed outwards), then the right half's.
  int32_t qi = r.q_start, si = r.s_start;
  uint8_t previous = kMatch;
  auto account = [&](uint8_t op) {
    ++r.length;
    if (op == kMatch) {
      if (query[qi] == subject[si]) {
        ++r.identities;
      } else {
        ++r.mismatches;
      }
      ++qi;
      ++si;
    } else {
      if (op != previous) ++r.gap_opens;
      if (op == kSubjectOnly) {
        ++si;
      } else {
        ++qi;
      }
    }
    previous = op;
  };
  for (auto it = left_ops_.rbegin(); it != left_ops_.rend(); ++it) account(*it);
  for (uint8_t op : right_ops_) account(op);
  return r;
}

}  // namespace gpu_blastp
