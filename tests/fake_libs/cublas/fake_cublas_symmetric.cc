// TEST EQUIPMENT: the host cuBLAS double's symmetric and triangular routines
// beyond the real ones of fake_cublas_more.cc: SYR, SYR2, SYR2K, SYRKX,
// TPTTR and TRTTP (S, D, C, Z); in C and Z SYMV, GERU, GERC, SYMM, SYRK,
// HERKX, TRMM, TRSM, DGMM and level 1 (SWAP, ASUM, I?AMAX, I?AMIN, ROT with
// a real or complex sine). Plain loops in std::complex<double> on the fake
// driver's host memory, in stream order as the rest of the double
// (fake_cublas.cc). A symmetric matrix is read from its `uplo` triangle
// without conjugation; HERKX writes a real diagonal. Nothing here says
// anything about a GPU or NVIDIA's cuBLAS.
#include <cuComplex.h>

#include <complex>
#include <vector>

#include "tests/fake_libs/cublas/fake_cublas_wide.h"

namespace {

// Element (i, j) of the symmetric matrix whose `uplo` triangle A holds.
template <class E>
Wide SymmetricAt(const E* A, int lda, cublasFillMode_t uplo, int i, int j) {
  const bool stored = uplo == CUBLAS_FILL_MODE_LOWER ? i >= j : i <= j;
  return stored ? W(A[Index(i, j, lda)]) : W(A[Index(j, i, lda)]);
}

// op(X)(r, c): X itself, its transpose, or its conjugate transpose.
template <class E>
Wide OpAt(cublasOperation_t op, const E* X, int ld, int r, int c) {
  if (op == CUBLAS_OP_N) return W(X[Index(r, c, ld)]);
  const Wide v = W(X[Index(c, r, ld)]);
  return op == CUBLAS_OP_C ? std::conj(v) : v;
}

// A = alpha x x^T + A (SYR, y null) or alpha (x y^T + y x^T) + A (SYR2), in
// A's `uplo` triangle; no conjugation in complex.
template <class E>
cublasStatus_t SymmetricRank(cublasHandle_t h, cublasFillMode_t uplo, int n, const E* alpha, const E* x, int incx,
                             const E* y, int incy, E* A, int lda) {
  if (h == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!ValidFill(uplo) || n < 0 || incx == 0 || (y && incy == 0) || lda < std::max(1, n) || !alpha)
    return CUBLAS_STATUS_INVALID_VALUE;
  return OnStream(h, [&] {
    const Wide a = W(*alpha);
    ForTriangle(uplo, n, [&](int i, int j) {
      const Wide xi = W(x[At(i, n, incx)]), xj = W(x[At(j, n, incx)]);
      E& out = A[Index(i, j, lda)];
      out = Narrow<E>(W(out) + (y ? a * (xi * W(y[At(j, n, incy)]) + W(y[At(i, n, incy)]) * xj) : a * xi * xj));
    });
  });
}

template <class E>
cublasStatus_t Symv(cublasHandle_t h, cublasFillMode_t uplo, int n, const E* alpha, const E* A, int lda, const E* x,
                    int incx, const E* beta, E* y, int incy) {
  if (h == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!ValidFill(uplo) || n < 0 || lda < std::max(1, n) || incx == 0 || incy == 0 || !alpha || !beta)
    return CUBLAS_STATUS_INVALID_VALUE;
  return MatVec(h, CUBLAS_OP_N, n, n, alpha, [&](int i, int j) { return SymmetricAt(A, lda, uplo, i, j); }, x, incx,
                beta, y, incy);
}

// A = alpha x y^T + A (GERU) or alpha x y^H + A (GERC), A m x n.
template <class E>
cublasStatus_t Ger(cublasHandle_t h, int m, int n, const E* alpha, const E* x, int incx, const E* y, int incy, E* A,
                   int lda, bool conjugate) {
  if (h == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (m < 0 || n < 0 || incx == 0 || incy == 0 || lda < std::max(1, m) || !alpha) return CUBLAS_STATUS_INVALID_VALUE;
  return OnStream(h, [&] {
    for (int j = 0; j < n; ++j) {
      const Wide yj = W(y[At(j, n, incy)]);
      for (int i = 0; i < m; ++i) {
        E& out = A[Index(i, j, lda)];
        out = Narrow<E>(W(out) + W(*alpha) * W(x[At(i, m, incx)]) * (conjugate ? std::conj(yj) : yj));
      }
    }
  });
}

// C = alpha A B + beta C (left) or alpha B A + beta C (right); A symmetric.
template <class E>
cublasStatus_t Symm(cublasHandle_t h, cublasSideMode_t side, cublasFillMode_t uplo, int m, int n, const E* alpha,
                    const E* A, int lda, const E* B, int ldb, const E* beta, E* C, int ldc) {
  if (h == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  const bool left = side == CUBLAS_SIDE_LEFT;
  if (!ValidSide(side) || !ValidFill(uplo) || m < 0 || n < 0 || lda < std::max(1, left ? m : n) ||
      ldb < std::max(1, m) || ldc < std::max(1, m) || !alpha || !beta)
    return CUBLAS_STATUS_INVALID_VALUE;
  return OnStream(h, [&] {
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < m; ++i) {
        Wide sum = 0;
        for (int p = 0; p < (left ? m : n); ++p)
          sum += left ? SymmetricAt(A, lda, uplo, i, p) * W(B[Index(p, j, ldb)])
                      : W(B[Index(i, p, ldb)]) * SymmetricAt(A, lda, uplo, p, j);
        E& c = C[Index(i, j, ldc)];
        c = Narrow<E>(W(*beta) == Wide(0) ? W(*alpha) * sum : W(*alpha) * sum + W(*beta) * W(c));
      }
  });
}

// The rank-k updates of C's `uplo` triangle, op(X) n x k:
//   kSyrk   alpha op(A) op(A)^T + beta C
//   kSyr2k  alpha (op(A) op(B)^T + op(B) op(A)^T) + beta C
//   kSyrkx  alpha op(A) op(B)^T + beta C
//   kHerkx  alpha op(A) op(B)^H + beta C (beta real, the diagonal real)
enum class RankKind { kSyrk, kSyr2k, kSyrkx, kHerkx };

template <class E>
cublasStatus_t RankK(cublasHandle_t h, RankKind kind, cublasFillMode_t uplo, cublasOperation_t trans, int n, int k,
                     const E* alpha, const E* A, int lda, const E* B, int ldb, Wide beta, E* C, int ldc) {
  if (h == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  const bool hermitian = kind == RankKind::kHerkx, t = trans != CUBLAS_OP_N;
  // Symmetric: N or T (C too when real); Hermitian: N or C.
  const bool op_ok = hermitian ? (trans == CUBLAS_OP_N || trans == CUBLAS_OP_C)
                               : (trans == CUBLAS_OP_N || trans == CUBLAS_OP_T ||
                                  (trans == CUBLAS_OP_C && std::is_arithmetic_v<E>));
  if (!ValidFill(uplo) || !op_ok || n < 0 || k < 0 || lda < std::max(1, t ? k : n) ||
      (B && ldb < std::max(1, t ? k : n)) || ldc < std::max(1, n) || !alpha)
    return CUBLAS_STATUS_INVALID_VALUE;
  const E* other = kind == RankKind::kSyrk ? A : B;
  const int ldo = kind == RankKind::kSyrk ? lda : ldb;
  return OnStream(h, [&] {
    const Wide a = W(*alpha);
    ForTriangle(uplo, n, [&](int i, int j) {
      Wide sum = 0;
      for (int p = 0; p < k; ++p) {
        const Wide bj = OpAt(trans, other, ldo, j, p);
        sum += OpAt(trans, A, lda, i, p) * (hermitian ? std::conj(bj) : bj);
        if (kind == RankKind::kSyr2k) sum += OpAt(trans, other, ldo, i, p) * OpAt(trans, A, lda, j, p);
      }
      E& c = C[Index(i, j, ldc)];
      const Wide old = hermitian && i == j ? Wide(W(c).real(), 0) : W(c);
      Wide v = beta == Wide(0) ? a * sum : a * sum + beta * old;
      if (hermitian && i == j) v = Wide(v.real(), 0);
      c = Narrow<E>(v);
    });
  });
}

// op(A)(r, c) of a triangular A, the diagonal 1 when unit.
template <class E>
Wide TriangleAt(const E* A, int lda, bool lower, cublasOperation_t trans, bool unit, int r, int c) {
  const bool t = trans != CUBLAS_OP_N;
  const int rr = t ? c : r, cc = t ? r : c;
  if (rr == cc && unit) return 1.0;
  if (lower ? rr < cc : rr > cc) return 0.0;
  const Wide v = W(A[Index(rr, cc, lda)]);
  return trans == CUBLAS_OP_C ? std::conj(v) : v;
}

bool ValidTriangular(cublasSideMode_t side, cublasFillMode_t uplo, cublasOperation_t trans, cublasDiagType_t diag,
                     int m, int n, int lda, int ldb) {
  const int ka = side == CUBLAS_SIDE_LEFT ? m : n;
  return ValidSide(side) && ValidFill(uplo) && ValidOp(trans) && ValidDiag(diag) && m >= 0 && n >= 0 &&
         lda >= std::max(1, ka) && ldb >= std::max(1, m);
}

// C = alpha op(A) B (left) or alpha B op(A) (right), computed before C is
// written (C may be B).
template <class E>
cublasStatus_t Trmm(cublasHandle_t h, cublasSideMode_t side, cublasFillMode_t uplo, cublasOperation_t trans,
                    cublasDiagType_t diag, int m, int n, const E* alpha, const E* A, int lda, const E* B, int ldb,
                    E* C, int ldc) {
  if (h == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!ValidTriangular(side, uplo, trans, diag, m, n, lda, ldb) || ldc < std::max(1, m) || !alpha)
    return CUBLAS_STATUS_INVALID_VALUE;
  const bool left = side == CUBLAS_SIDE_LEFT, lower = uplo == CUBLAS_FILL_MODE_LOWER,
             unit = diag == CUBLAS_DIAG_UNIT;
  return OnStream(h, [&] {
    std::vector<Wide> out(static_cast<size_t>(m) * n);
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < m; ++i) {
        Wide sum = 0;
        for (int p = 0; p < (left ? m : n); ++p)
          sum += left ? TriangleAt(A, lda, lower, trans, unit, i, p) * W(B[Index(p, j, ldb)])
                      : W(B[Index(i, p, ldb)]) * TriangleAt(A, lda, lower, trans, unit, p, j);
        out[Index(i, j, m)] = W(*alpha) * sum;
      }
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < m; ++i) C[Index(i, j, ldc)] = Narrow<E>(out[Index(i, j, m)]);
  });
}

// Solves op(A) X = alpha B (left) or X op(A) = alpha B (right) into B.
template <class E>
cublasStatus_t Trsm(cublasHandle_t h, cublasSideMode_t side, cublasFillMode_t uplo, cublasOperation_t trans,
                    cublasDiagType_t diag, int m, int n, const E* alpha, const E* A, int lda, E* B, int ldb) {
  if (h == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!ValidTriangular(side, uplo, trans, diag, m, n, lda, ldb) || !alpha) return CUBLAS_STATUS_INVALID_VALUE;
  const bool left = side == CUBLAS_SIDE_LEFT, lower = uplo == CUBLAS_FILL_MODE_LOWER,
             unit = diag == CUBLAS_DIAG_UNIT;
  // M x = b with M = op(A) (left, per column of B) or op(A)^T (right, per
  // row): M is lower when op(A) is lower (left) or upper (right).
  const int size = left ? m : n, count = left ? n : m;
  const bool op_lower = lower != (trans != CUBLAS_OP_N);
  const bool forward = left ? op_lower : !op_lower;
  auto matrix = [&](int r, int c) {
    return left ? TriangleAt(A, lda, lower, trans, unit, r, c) : TriangleAt(A, lda, lower, trans, unit, c, r);
  };
  auto element = [&](int vector, int i) -> E& { return left ? B[Index(i, vector, ldb)] : B[Index(vector, i, ldb)]; };
  return OnStream(h, [&] {
    std::vector<Wide> x(size);
    for (int v = 0; v < count; ++v) {
      for (int step = 0; step < size; ++step) {
        const int i = forward ? step : size - 1 - step;
        Wide sum = W(*alpha) * W(element(v, i));
        for (int p = 0; p < size; ++p)
          if (forward ? p < i : p > i) sum -= matrix(i, p) * x[p];
        x[i] = sum / matrix(i, i);
      }
      for (int i = 0; i < size; ++i) element(v, i) = Narrow<E>(x[i]);
    }
  });
}

// C = A diag(x) (right) or diag(x) A (left).
template <class E>
cublasStatus_t Dgmm(cublasHandle_t h, cublasSideMode_t mode, int m, int n, const E* A, int lda, const E* x, int incx,
                    E* C, int ldc) {
  if (h == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!ValidSide(mode) || m < 0 || n < 0 || lda < std::max(1, m) || ldc < std::max(1, m))
    return CUBLAS_STATUS_INVALID_VALUE;
  const bool left = mode == CUBLAS_SIDE_LEFT;
  return OnStream(h, [&] {
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < m; ++i)
        C[Index(i, j, ldc)] =
            Narrow<E>(W(A[Index(i, j, lda)]) * W(x[left ? At(i, m, incx) : At(j, n, incx)]));
  });
}

// Packed triangle <-> full storage (TPTTR: to_full; TRTTP: the reverse).
template <class E>
cublasStatus_t PackedConvert(cublasHandle_t h, cublasFillMode_t uplo, int n, E* ap, E* A, int lda, bool to_full) {
  if (h == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!ValidFill(uplo) || n < 0 || lda < std::max(1, n)) return CUBLAS_STATUS_INVALID_VALUE;
  const bool lower = uplo == CUBLAS_FILL_MODE_LOWER;
  return OnStream(h, [&] {
    ForTriangle(uplo, n, [&](int i, int j) {
      E& packed = ap[PackedIndex(lower, n, i, j)];
      E& full = A[Index(i, j, lda)];
      if (to_full) full = packed;
      else packed = full;
    });
  });
}

// |re| + |im|: what cuBLAS's complex ASUM and I?AMAX measure.
template <class E>
double Magnitude(const E& v) {
  return std::fabs(W(v).real()) + std::fabs(W(v).imag());
}

}  // namespace

#define FAKE_SYMMETRIC_ANY(CU, E, P)                                                                                 \
  FAKE_EXPORT cublasStatus_t cublas##P##syr_v2(cublasHandle_t h, cublasFillMode_t uplo, int n, const CU* a,          \
                                              const CU* x, int incx, CU* A, int lda) {                               \
    return SymmetricRank(h, uplo, n, reinterpret_cast<const E*>(a), reinterpret_cast<const E*>(x), incx,             \
                         static_cast<const E*>(nullptr), 1, reinterpret_cast<E*>(A), lda);                           \
  }                                                                                                                  \
  FAKE_EXPORT cublasStatus_t cublas##P##syr2_v2(cublasHandle_t h, cublasFillMode_t uplo, int n, const CU* a,         \
                                               const CU* x, int incx, const CU* y, int incy, CU* A, int lda) {       \
    if (y == nullptr) return h == nullptr ? CUBLAS_STATUS_NOT_INITIALIZED : CUBLAS_STATUS_INVALID_VALUE;             \
    return SymmetricRank(h, uplo, n, reinterpret_cast<const E*>(a), reinterpret_cast<const E*>(x), incx,             \
                         reinterpret_cast<const E*>(y), incy, reinterpret_cast<E*>(A), lda);                         \
  }                                                                                                                  \
  FAKE_EXPORT cublasStatus_t cublas##P##syr2k_v2(cublasHandle_t h, cublasFillMode_t uplo, cublasOperation_t t,       \
                                                int n, int k, const CU* a, const CU* A, int lda, const CU* B,        \
                                                int ldb, const CU* b, CU* C, int ldc) {                              \
    if (b == nullptr || B == nullptr) return h == nullptr ? CUBLAS_STATUS_NOT_INITIALIZED : CUBLAS_STATUS_INVALID_VALUE; \
    return RankK(h, RankKind::kSyr2k, uplo, t, n, k, reinterpret_cast<const E*>(a), reinterpret_cast<const E*>(A),  \
                 lda, reinterpret_cast<const E*>(B), ldb, W(*reinterpret_cast<const E*>(b)),                         \
                 reinterpret_cast<E*>(C), ldc);                                                                      \
  }                                                                                                                  \
  FAKE_EXPORT cublasStatus_t cublas##P##syrkx(cublasHandle_t h, cublasFillMode_t uplo, cublasOperation_t t, int n,   \
                                             int k, const CU* a, const CU* A, int lda, const CU* B, int ldb,         \
                                             const CU* b, CU* C, int ldc) {                                          \
    if (b == nullptr || B == nullptr) return h == nullptr ? CUBLAS_STATUS_NOT_INITIALIZED : CUBLAS_STATUS_INVALID_VALUE; \
    return RankK(h, RankKind::kSyrkx, uplo, t, n, k, reinterpret_cast<const E*>(a), reinterpret_cast<const E*>(A),  \
                 lda, reinterpret_cast<const E*>(B), ldb, W(*reinterpret_cast<const E*>(b)),                         \
                 reinterpret_cast<E*>(C), ldc);                                                                      \
  }                                                                                                                  \
  FAKE_EXPORT cublasStatus_t cublas##P##tpttr(cublasHandle_t h, cublasFillMode_t uplo, int n, const CU* AP, CU* A,   \
                                             int lda) {                                                              \
    return PackedConvert(h, uplo, n, const_cast<E*>(reinterpret_cast<const E*>(AP)), reinterpret_cast<E*>(A), lda,   \
                         /*to_full=*/true);                                                                          \
  }                                                                                                                  \
  FAKE_EXPORT cublasStatus_t cublas##P##trttp(cublasHandle_t h, cublasFillMode_t uplo, int n, const CU* A, int lda,  \
                                             CU* AP) {                                                               \
    return PackedConvert(h, uplo, n, reinterpret_cast<E*>(AP), const_cast<E*>(reinterpret_cast<const E*>(A)), lda,   \
                         /*to_full=*/false);                                                                         \
  }

FAKE_SYMMETRIC_ANY(float, float, S)
FAKE_SYMMETRIC_ANY(double, double, D)
FAKE_SYMMETRIC_ANY(cuComplex, std::complex<float>, C)
FAKE_SYMMETRIC_ANY(cuDoubleComplex, std::complex<double>, Z)

// C and Z only; R is the real type, RP the real-scalar functions' prefix
// (CSROT, ZDROT), AP the ASUM prefix (SCASUM, DZASUM), LP the lower-case
// letter of I?AMAX.
#define FAKE_SYMMETRIC_COMPLEX(CU, E, R, P, RP, AP, LP)                                                             \
  FAKE_EXPORT cublasStatus_t cublas##P##symv_v2(cublasHandle_t h, cublasFillMode_t uplo, int n, const CU* a,        \
                                               const CU* A, int lda, const CU* x, int incx, const CU* b, CU* y,     \
                                               int incy) {                                                          \
    return Symv(h, uplo, n, reinterpret_cast<const E*>(a), reinterpret_cast<const E*>(A), lda,                      \
                reinterpret_cast<const E*>(x), incx, reinterpret_cast<const E*>(b), reinterpret_cast<E*>(y), incy); \
  }                                                                                                                 \
  FAKE_EXPORT cublasStatus_t cublas##P##geru_v2(cublasHandle_t h, int m, int n, const CU* a, const CU* x, int incx, \
                                               const CU* y, int incy, CU* A, int lda) {                             \
    return Ger(h, m, n, reinterpret_cast<const E*>(a), reinterpret_cast<const E*>(x), incx,                         \
               reinterpret_cast<const E*>(y), incy, reinterpret_cast<E*>(A), lda, /*conjugate=*/false);             \
  }                                                                                                                 \
  FAKE_EXPORT cublasStatus_t cublas##P##gerc_v2(cublasHandle_t h, int m, int n, const CU* a, const CU* x, int incx, \
                                               const CU* y, int incy, CU* A, int lda) {                             \
    return Ger(h, m, n, reinterpret_cast<const E*>(a), reinterpret_cast<const E*>(x), incx,                         \
               reinterpret_cast<const E*>(y), incy, reinterpret_cast<E*>(A), lda, /*conjugate=*/true);              \
  }                                                                                                                 \
  FAKE_EXPORT cublasStatus_t cublas##P##symm_v2(cublasHandle_t h, cublasSideMode_t side, cublasFillMode_t uplo,     \
                                               int m, int n, const CU* a, const CU* A, int lda, const CU* B,        \
                                               int ldb, const CU* b, CU* C, int ldc) {                              \
    return Symm(h, side, uplo, m, n, reinterpret_cast<const E*>(a), reinterpret_cast<const E*>(A), lda,             \
                reinterpret_cast<const E*>(B), ldb, reinterpret_cast<const E*>(b), reinterpret_cast<E*>(C), ldc);   \
  }                                                                                                                 \
  FAKE_EXPORT cublasStatus_t cublas##P##syrk_v2(cublasHandle_t h, cublasFillMode_t uplo, cublasOperation_t t, int n, \
                                               int k, const CU* a, const CU* A, int lda, const CU* b, CU* C,        \
                                               int ldc) {                                                           \
    if (b == nullptr) return h == nullptr ? CUBLAS_STATUS_NOT_INITIALIZED : CUBLAS_STATUS_INVALID_VALUE;            \
    return RankK(h, RankKind::kSyrk, uplo, t, n, k, reinterpret_cast<const E*>(a), reinterpret_cast<const E*>(A),  \
                 lda, static_cast<const E*>(nullptr), 0, W(*reinterpret_cast<const E*>(b)),                         \
                 reinterpret_cast<E*>(C), ldc);                                                                     \
  }                                                                                                                 \
  FAKE_EXPORT cublasStatus_t cublas##P##herkx(cublasHandle_t h, cublasFillMode_t uplo, cublasOperation_t t, int n,  \
                                             int k, const CU* a, const CU* A, int lda, const CU* B, int ldb,        \
                                             const R* b, CU* C, int ldc) {                                          \
    if (b == nullptr || B == nullptr) return h == nullptr ? CUBLAS_STATUS_NOT_INITIALIZED : CUBLAS_STATUS_INVALID_VALUE; \
    return RankK(h, RankKind::kHerkx, uplo, t, n, k, reinterpret_cast<const E*>(a), reinterpret_cast<const E*>(A), \
                 lda, reinterpret_cast<const E*>(B), ldb, Wide(*b, 0), reinterpret_cast<E*>(C), ldc);               \
  }                                                                                                                 \
  FAKE_EXPORT cublasStatus_t cublas##P##trmm_v2(cublasHandle_t h, cublasSideMode_t side, cublasFillMode_t uplo,     \
                                               cublasOperation_t t, cublasDiagType_t diag, int m, int n,            \
                                               const CU* a, const CU* A, int lda, const CU* B, int ldb, CU* C,      \
                                               int ldc) {                                                           \
    return Trmm(h, side, uplo, t, diag, m, n, reinterpret_cast<const E*>(a), reinterpret_cast<const E*>(A), lda,    \
                reinterpret_cast<const E*>(B), ldb, reinterpret_cast<E*>(C), ldc);                                  \
  }                                                                                                                 \
  FAKE_EXPORT cublasStatus_t cublas##P##trsm_v2(cublasHandle_t h, cublasSideMode_t side, cublasFillMode_t uplo,     \
                                               cublasOperation_t t, cublasDiagType_t diag, int m, int n,            \
                                               const CU* a, const CU* A, int lda, CU* B, int ldb) {                 \
    return Trsm(h, side, uplo, t, diag, m, n, reinterpret_cast<const E*>(a), reinterpret_cast<const E*>(A), lda,    \
                reinterpret_cast<E*>(B), ldb);                                                                      \
  }                                                                                                                 \
  FAKE_EXPORT cublasStatus_t cublas##P##dgmm(cublasHandle_t h, cublasSideMode_t mode, int m, int n, const CU* A,    \
                                            int lda, const CU* x, int incx, CU* C, int ldc) {                       \
    return Dgmm(h, mode, m, n, reinterpret_cast<const E*>(A), lda, reinterpret_cast<const E*>(x), incx,             \
                reinterpret_cast<E*>(C), ldc);                                                                      \
  }                                                                                                                 \
  FAKE_EXPORT cublasStatus_t cublas##P##swap_v2(cublasHandle_t h, int n, CU* x, int incx, CU* y, int incy) {        \
    return OnStream(h, [&] {                                                                                        \
      for (int i = 0; i < n; ++i) std::swap(x[At(i, n, incx)], y[At(i, n, incy)]);                                  \
    });                                                                                                             \
  }                                                                                                                 \
  FAKE_EXPORT cublasStatus_t cublas##AP##asum_v2(cublasHandle_t h, int n, const CU* x, int incx, R* result) {       \
    if (h != nullptr && result == nullptr) return CUBLAS_STATUS_INVALID_VALUE;                                      \
    return OnStream(h, [&] {                                                                                        \
      double sum = 0;                                                                                               \
      for (int i = 0; incx > 0 && i < n; ++i) sum += Magnitude(reinterpret_cast<const E*>(x)[Index(0, i, incx)]);   \
      *result = static_cast<R>(sum);                                                                                \
    });                                                                                                             \
  }                                                                                                                 \
  FAKE_EXPORT cublasStatus_t cublasI##LP##amax_v2(cublasHandle_t h, int n, const CU* x, int incx, int* result) {    \
    return ComplexExtremeIndex(h, n, reinterpret_cast<const E*>(x), incx, result, /*largest=*/true);                \
  }                                                                                                                 \
  FAKE_EXPORT cublasStatus_t cublasI##LP##amin_v2(cublasHandle_t h, int n, const CU* x, int incx, int* result) {    \
    return ComplexExtremeIndex(h, n, reinterpret_cast<const E*>(x), incx, result, /*largest=*/false);               \
  }                                                                                                                 \
  FAKE_EXPORT cublasStatus_t cublas##RP##rot_v2(cublasHandle_t h, int n, CU* x, int incx, CU* y, int incy,          \
                                               const R* c, const R* s) {                                            \
    if (h != nullptr && (c == nullptr || s == nullptr)) return CUBLAS_STATUS_INVALID_VALUE;                         \
    return ComplexRot(h, n, reinterpret_cast<E*>(x), incx, reinterpret_cast<E*>(y), incy, *c, Wide(*s, 0));         \
  }                                                                                                                 \
  FAKE_EXPORT cublasStatus_t cublas##P##rot_v2(cublasHandle_t h, int n, CU* x, int incx, CU* y, int incy,           \
                                              const R* c, const CU* s) {                                            \
    if (h != nullptr && (c == nullptr || s == nullptr)) return CUBLAS_STATUS_INVALID_VALUE;                         \
    return ComplexRot(h, n, reinterpret_cast<E*>(x), incx, reinterpret_cast<E*>(y), incy, *c,                       \
                      W(*reinterpret_cast<const E*>(s)));                                                           \
  }

namespace {

// The 1-based index of the first element of largest (or smallest) |re|+|im|.
template <class E>
cublasStatus_t ComplexExtremeIndex(cublasHandle_t h, int n, const E* x, int incx, int* result, bool largest) {
  if (h != nullptr && result == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
  return OnStream(h, [&] {
    int best = 0;
    double best_value = 0;
    for (int i = 0; incx > 0 && i < n; ++i) {
      const double v = Magnitude(x[Index(0, i, incx)]);
      if (best == 0 || (largest ? v > best_value : v < best_value)) {
        best = i + 1;
        best_value = v;
      }
    }
    *result = best;
  });
}

// x = c x + s y, y = -conj(s) x + c y.
template <class E>
cublasStatus_t ComplexRot(cublasHandle_t h, int n, E* x, int incx, E* y, int incy, double c, Wide s) {
  return OnStream(h, [&] {
    for (int i = 0; i < n; ++i) {
      E& a = x[At(i, n, incx)];
      E& b = y[At(i, n, incy)];
      const Wide xa = W(a), yb = W(b);
      a = Narrow<E>(c * xa + s * yb);
      b = Narrow<E>(-std::conj(s) * xa + c * yb);
    }
  });
}

}  // namespace

FAKE_SYMMETRIC_COMPLEX(cuComplex, std::complex<float>, float, C, Cs, Sc, c)
FAKE_SYMMETRIC_COMPLEX(cuDoubleComplex, std::complex<double>, double, Z, Zd, Dz, z)
