// The heart of the scan, shared verbatim by the CPU path, the CUDA kernel
// and the test-backend kernel: BLAST's two-hit rule on one diagonal and the
// ungapped X-drop extension it triggers.
//
// Why one copy: GPU and CPU modes must report identical hits. A word hit
// (q, s) is a pair of words of 3 scoring >= T; hits on one diagonal
// d = s - q are fed to OnWordHit in increasing s. Everything that follows
// depends only on the hits of that diagonal in that order, so the CPU
// (lookup table, all diagonals of a subject interleaved) and the GPU (one
// thread walking each diagonal) reach the same ungapped HSPs, only in a
// different order, which the caller sorts away.
#pragma once

#include <cstdint>

#include "search_params.h"

#if defined(__CUDACC__)
#define GB_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define GB_HOST_DEVICE inline
#endif

namespace gpu_blastp {

// The score matrix as the scan sees it: row stride kMatrixStride (32).
#define GB_SCORE(matrix, a, b) (static_cast<int>((matrix)[(static_cast<int>(a) << 5) + static_cast<int>(b)]))

// An ungapped HSP: the result of one extension that reached the gap trigger.
struct UngappedHsp {
  uint32_t subject;  // database ordinal
  int32_t q_start;
  int32_t s_start;
  int32_t length;
  int32_t score;
};

// The two-hit state of one diagonal, in subject coordinates of the current
// subject. A fresh diagonal has last_hit <= -window and flag 0.
struct DiagonalState {
  int32_t last_hit;  // subject offset of the last hit (or, after an extension, of the extension's end)
  int32_t flag;      // 1: an extension just happened on this diagonal
};

GB_HOST_DEVICE DiagonalState FreshDiagonal(const ScanParams& p) { return DiagonalState{-p.window, 0}; }

struct ExtensionResult {
  int32_t score;
  int32_t q_start;
  int32_t s_start;
  int32_t length;
  int32_t right_extend;  // 1 when the extension went on to the right
  int32_t s_last_off;    // last subject offset examined to the right
};

// BLAST's two-hit ungapped extension: choose where the second word's prefix
// scores best, extend left (it must reach the first hit), then right, each
// with an X-drop. Offsets are within the query and the subject.
GB_HOST_DEVICE ExtensionResult ExtendTwoHit(const int8_t* matrix, const uint8_t* query, int32_t query_length,
                                            const uint8_t* subject, int32_t subject_length, int32_t s_left_off,
                                            int32_t s_right_off, int32_t q_right_off, int32_t word_size,
                                            int32_t dropoff) {
  // The best-scoring prefix of the second word.
  int32_t score = 0, best = 0, right_d = 0;
  for (int32_t i = 0; i < word_size; ++i) {
    score += GB_SCORE(matrix, query[q_right_off + i], subject[s_right_off + i]);
    if (score > best) {
      best = score;
      right_d = i + 1;
    }
  }
  q_right_off += right_d;
  s_right_off += right_d;

  // Left, from just before that point back towards (and past) the first hit.
  int32_t left_score = 0;
  int32_t left_d = 0;
  {
    const int32_t s_off = s_right_off - 1, q_off = q_right_off - 1;
    const int32_t n = s_off < q_off ? s_off : q_off;
    int32_t best_i = n + 1;
    int32_t sc = 0;
    for (int32_t i = n; i >= 0; --i) {
      sc += GB_SCORE(matrix, query[q_off - n + i], subject[s_off - n + i]);
      if (sc > left_score) {
        left_score = sc;
        best_i = i;
      }
      if (left_score - sc >= dropoff) break;
    }
    left_d = n - best_i + 1;
  }

  ExtensionResult r;
  r.right_extend = 0;
  r.s_last_off = s_right_off;
  int32_t right_score = 0;
  int32_t right_d_len = 0;
  // Extend right only if the left extension reached the first hit.
  if (left_d >= s_right_off - s_left_off) {
    r.right_extend = 1;
    const int32_t ns = subject_length - s_right_off, nq = query_length - q_right_off;
    const int32_t n = ns < nq ? ns : nq;
    int32_t sc = left_score, max_score = left_score, best_i = -1;
    int32_t i = 0;
    for (; i < n; ++i) {
      sc += GB_SCORE(matrix, query[q_right_off + i], subject[s_right_off + i]);
      if (sc > max_score) {
        max_score = sc;
        best_i = i;
      }
      if (sc <= 0 || max_score - sc >= dropoff) break;
    }
    right_score = max_score;
    right_d_len = best_i + 1;
    r.s_last_off = s_right_off + i;
  }
  r.q_start = q_right_off - left_d;
  r.s_start = s_right_off - left_d;
  r.length = left_d + right_d_len;
  r.score = left_score > right_score ? left_score : right_score;
  return r;
}

// Feeds word hit (q, s) to its diagonal's state. Returns 1 and fills *out
// when the hit completed a two-hit pair whose extension reached the gap
// trigger.
GB_HOST_DEVICE int OnWordHit(DiagonalState* st, int32_t q, int32_t s, const int8_t* matrix, const uint8_t* query,
                             int32_t query_length, const uint8_t* subject, int32_t subject_length,
                             const ScanParams& p, ExtensionResult* out) {
  if (st->flag) {
    // An extension just happened here: skip hits it already covered, else start afresh.
    if (s < st->last_hit) return 0;
    st->last_hit = s;
    st->flag = 0;
    return 0;
  }
  const int32_t diff = s - st->last_hit;
  if (diff >= p.window) {  // too far from the last hit: this one becomes the first of a pair
    st->last_hit = s;
    return 0;
  }
  if (diff < p.word_size) return 0;  // overlaps the last hit
  const ExtensionResult r = ExtendTwoHit(matrix, query, query_length, subject, subject_length,
                                         st->last_hit + p.word_size, s, q, p.word_size, p.xdrop_ungapped);
  if (r.right_extend) {
    st->flag = 1;
    st->last_hit = r.s_last_off - (p.word_size - 1);
  } else {
    st->last_hit = s;
  }
  if (r.score >= p.gap_trigger) {
    *out = r;
    return 1;
  }
  return 0;
}

// Walks diagonal d (s = q + d) of one query-subject pair from its start,
// as one GPU thread does: scores each word pair from a running sum of three
// matrix entries and feeds hits to OnWordHit. Calls emit(result) per HSP.
// The walk needs word_size == 3.
//
// kSubjectMajor reads the (symmetric) matrix as [subject][query]: on the
// GPU, neighbouring threads walk neighbouring diagonals in step, so for
// d < 0 they share the subject residue and for d >= 0 the query residue;
// indexing the row by the shared residue keeps a warp's 32 lookups inside
// one 32-byte row (no shared-memory bank conflicts). Same scores either way.
template <bool kSubjectMajor, class Emit>
GB_HOST_DEVICE void WalkDiagonal(int32_t d, const int8_t* matrix, const uint8_t* query, int32_t query_length,
                                 const uint8_t* subject, int32_t subject_length, const ScanParams& p, Emit& emit) {
  int32_t q = d < 0 ? -d : 0;
  int32_t s = q + d;
  // Last word start on this diagonal.
  const int32_t q_last_by_query = query_length - 3;
  const int32_t q_last_by_subject = subject_length - 3 - d;
  const int32_t q_last = q_last_by_query < q_last_by_subject ? q_last_by_query : q_last_by_subject;
  if (q > q_last) return;
  DiagonalState st = FreshDiagonal(p);
#define GB_PAIR(qi, si) \
  (kSubjectMajor ? GB_SCORE(matrix, subject[si], query[qi]) : GB_SCORE(matrix, query[qi], subject[si]))
  int32_t sc0 = GB_PAIR(q, s);
  int32_t sc1 = GB_PAIR(q + 1, s + 1);
  for (; q <= q_last; ++q, ++s) {
    const int32_t sc2 = GB_PAIR(q + 2, s + 2);
    if (sc0 + sc1 + sc2 >= p.threshold) {
      ExtensionResult r;
      if (OnWordHit(&st, q, s, matrix, query, query_length, subject, subject_length, p, &r)) emit(r);
    }
    sc0 = sc1;
    sc1 = sc2;
  }
#undef GB_PAIR
}

}  // namespace gpu_blastp
