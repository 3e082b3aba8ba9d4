// TEST EQUIPMENT: the host cuBLAS double's band routines (GBMV, SBMV, HBMV,
// TBMV, TBSV), packed rank updates (SPR2, HPR, HPR2) and complex triangular
// ones (C/Z TRMV, TRSV, TPMV, TPSV), plain loops in std::complex<double> on
// the fake driver's host memory, in stream order as the rest of the double
// (fake_cublas.cc). Storage as cuBLAS documents it: a band matrix keeps
// column j's band in column j of A (GBMV: element (i, j) at row ku+i-j; SBMV
// and TBMV upper: k+i-j; lower: i-j); a packed matrix its `uplo` triangle
// column by column. Hermitian diagonals are read and written real. Nothing
// here says anything about a GPU or NVIDIA's cuBLAS.
#include <cuComplex.h>

#include <complex>
#include <functional>
#include <vector>

#include "tests/fake_libs/cublas/fake_cublas_wide.h"

namespace {

// An element (r, c) of a matrix the routine reads, zero outside what it stores.
using Element = std::function<Wide(int, int)>;

// Element (r, c) of the symmetric (or, `hermitian`, Hermitian) matrix whose
// `uplo` triangle `stored(r, c)` gives (called with r, c in that triangle).
Element Symmetric(bool lower, bool hermitian, Element stored) {
  return [=](int r, int c) {
    const bool in = lower ? r >= c : r <= c;
    Wide v = in ? stored(r, c) : stored(c, r);
    if (hermitian && r == c) return Wide(v.real(), 0);
    return hermitian && !in ? std::conj(v) : v;
  };
}

// Column-major band storage: element (r, c) of column c at row `top`+r-c,
// present when -upper <= r-c <= lower.
template <class E>
Element Band(const E* a, int lda, int top, int lower, int upper) {
  return [=](int r, int c) {
    if (r - c > lower || c - r > upper) return Wide(0);
    return W(a[top + r - c + static_cast<long long>(c) * lda]);
  };
}

// x = op(A) x, or x = op(A)^-1 x when `solve`; A triangular n x n, its
// `uplo` triangle from `stored`.
template <class E>
cublasStatus_t Triangular(cublasHandle_t h, cublasFillMode_t uplo, cublasOperation_t trans, cublasDiagType_t diag,
                          int n, const Element& stored, E* x, int incx, bool solve) {
  if (h == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!ValidFill(uplo) || !ValidOp(trans) || !ValidDiag(diag) || n < 0 || incx == 0)
    return CUBLAS_STATUS_INVALID_VALUE;
  const bool lower = uplo == CUBLAS_FILL_MODE_LOWER, transposed = Transposed(trans);
  auto op = [&](int r, int c) -> Wide {
    const int rr = transposed ? c : r, cc = transposed ? r : c;
    if (rr == cc && diag == CUBLAS_DIAG_UNIT) return 1.0;
    if (lower ? rr < cc : rr > cc) return 0.0;
    const Wide v = stored(rr, cc);
    return trans == CUBLAS_OP_C ? std::conj(v) : v;
  };
  return OnStream(h, [&] {
    std::vector<Wide> v(n), out(n);
    for (int i = 0; i < n; ++i) v[i] = W(x[At(i, n, incx)]);
    const bool forward = lower != transposed;  // op(A) lower: forward substitution
    for (int step = 0; step < n; ++step) {
      const int i = solve ? (forward ? step : n - 1 - step) : step;
      Wide sum = solve ? v[i] : 0;
      for (int j = 0; j < n; ++j) {
        if (!solve) sum += op(i, j) * v[j];
        else if (forward ? j < i : j > i) sum -= op(i, j) * out[j];
      }
      out[i] = solve ? sum / op(i, i) : sum;
    }
    for (int i = 0; i < n; ++i) x[At(i, n, incx)] = Narrow<E>(out[i]);
  });
}

template <class E>
cublasStatus_t Gbmv(cublasHandle_t h, cublasOperation_t trans, int m, int n, int kl, int ku, const E* alpha,
                    const E* a, int lda, const E* x, int incx, const E* beta, E* y, int incy) {
  if (h == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!ValidOp(trans) || m < 0 || n < 0 || kl < 0 || ku < 0 || lda < kl + ku + 1 || incx == 0 || incy == 0 ||
      !alpha || !beta)
    return CUBLAS_STATUS_INVALID_VALUE;
  return MatVec(h, trans, m, n, alpha, Band(a, lda, ku, kl, ku), x, incx, beta, y, incy);
}

// SBMV and HBMV: the `uplo` half of a symmetric or Hermitian band of k.
template <class E>
cublasStatus_t SymmetricBandMv(cublasHandle_t h, cublasFillMode_t uplo, int n, int k, const E* alpha, const E* a,
                               int lda, const E* x, int incx, const E* beta, E* y, int incy, bool hermitian) {
  if (h == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!ValidFill(uplo) || n < 0 || k < 0 || lda < k + 1 || incx == 0 || incy == 0 || !alpha || !beta)
    return CUBLAS_STATUS_INVALID_VALUE;
  const bool lower = uplo == CUBLAS_FILL_MODE_LOWER;
  const Element half = lower ? Band(a, lda, 0, k, 0) : Band(a, lda, k, 0, k);
  return MatVec(h, CUBLAS_OP_N, n, n, alpha, Symmetric(lower, hermitian, half), x, incx, beta, y, incy);
}

template <class E>
cublasStatus_t BandTriangular(cublasHandle_t h, cublasFillMode_t uplo, cublasOperation_t trans,
                              cublasDiagType_t diag, int n, int k, const E* a, int lda, E* x, int incx, bool solve) {
  if (k < 0 || lda < k + 1) return h == nullptr ? CUBLAS_STATUS_NOT_INITIALIZED : CUBLAS_STATUS_INVALID_VALUE;
  const bool lower = uplo == CUBLAS_FILL_MODE_LOWER;
  return Triangular(h, uplo, trans, diag, n, lower ? Band(a, lda, 0, k, 0) : Band(a, lda, k, 0, k), x, incx, solve);
}

template <class E>
Element PackedElements(const E* ap, bool lower, int n) {
  return [=](int r, int c) { return W(ap[PackedIndex(lower, n, r, c)]); };
}
template <class E>
Element FullElements(const E* a, int lda) {
  return [=](int r, int c) { return W(a[r + static_cast<long long>(c) * lda]); };
}

// AP = alpha x y^H + conj(alpha) y x^H + AP (SPR2 real: the transposes;
// HPR: y = x, alpha real, so the two terms are one, added once), in the
// packed `uplo` triangle; a Hermitian diagonal stays real.
template <class E>
cublasStatus_t PackedRank2(cublasHandle_t h, cublasFillMode_t uplo, int n, Wide alpha, const E* x, int incx,
                           const E* y, int incy, E* ap, bool hermitian, bool rank1) {
  if (h == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!ValidFill(uplo) || n < 0 || incx == 0 || incy == 0) return CUBLAS_STATUS_INVALID_VALUE;
  const bool lower = uplo == CUBLAS_FILL_MODE_LOWER;
  auto c = [&](const Wide& v) { return hermitian ? std::conj(v) : v; };
  return OnStream(h, [&] {
    for (int j = 0; j < n; ++j)
      for (int i = lower ? j : 0; i < (lower ? n : j + 1); ++i) {
        E& out = ap[PackedIndex(lower, n, i, j)];
        const Wide xi = W(x[At(i, n, incx)]), xj = W(x[At(j, n, incx)]), yi = W(y[At(i, n, incy)]),
                   yj = W(y[At(j, n, incy)]);
        Wide v = (hermitian && i == j) ? Wide(W(out).real(), 0) : W(out);
        v += rank1 ? alpha * xi * c(xj) : alpha * xi * c(yj) + c(alpha) * yi * c(xj);
        if (hermitian && i == j) v = Wide(v.real(), 0);
        out = Narrow<E>(v);
      }
  });
}

}  // namespace

#define FAKE_BAND(E, P)                                                                              \
  FAKE_EXPORT cublasStatus_t cublas##P##gbmv_v2(cublasHandle_t h, cublasOperation_t t, int m, int n, int kl, int ku, \
                                               const E* alpha, const E* a, int lda, const E* x, int incx,           \
                                               const E* beta, E* y, int incy) {                                     \
    return Gbmv(h, t, m, n, kl, ku, alpha, a, lda, x, incx, beta, y, incy);                                        \
  }                                                                                                                 \
  FAKE_EXPORT cublasStatus_t cublas##P##sbmv_v2(cublasHandle_t h, cublasFillMode_t uplo, int n, int k,              \
                                               const E* alpha, const E* a, int lda, const E* x, int incx,           \
                                               const E* beta, E* y, int incy) {                                     \
    return SymmetricBandMv(h, uplo, n, k, alpha, a, lda, x, incx, beta, y, incy, /*hermitian=*/false);              \
  }                                                                                                                 \
  FAKE_EXPORT cublasStatus_t cublas##P##tbmv_v2(cublasHandle_t h, cublasFillMode_t uplo, cublasOperation_t t,       \
                                               cublasDiagType_t diag, int n, int k, const E* a, int lda, E* x,      \
                                               int incx) {                                                          \
    return BandTriangular(h, uplo, t, diag, n, k, a, lda, x, incx, /*solve=*/false);                               \
  }                                                                                                                 \
  FAKE_EXPORT cublasStatus_t cublas##P##tbsv_v2(cublasHandle_t h, cublasFillMode_t uplo, cublasOperation_t t,       \
                                               cublasDiagType_t diag, int n, int k, const E* a, int lda, E* x,      \
                                               int incx) {                                                          \
    return BandTriangular(h, uplo, t, diag, n, k, a, lda, x, incx, /*solve=*/true);                                \
  }

#define FAKE_SPR2(E, P)                                                                                             \
  FAKE_EXPORT cublasStatus_t cublas##P##spr2_v2(cublasHandle_t h, cublasFillMode_t uplo, int n, const E* alpha,     \
                                               const E* x, int incx, const E* y, int incy, E* ap) {                 \
    if (alpha == nullptr) return CUBLAS_STATUS_INVALID_VALUE;                                                       \
    return PackedRank2(h, uplo, n, W(*alpha), x, incx, y, incy, ap, /*hermitian=*/false, /*rank1=*/false);         \
  }

// The complex routines take cuComplex / cuDoubleComplex, laid out as C.
#define FAKE_COMPLEX_PACKED(CU, C, P, R)                                                                             \
  FAKE_EXPORT cublasStatus_t cublas##P##hpr_v2(cublasHandle_t h, cublasFillMode_t uplo, int n, const R* alpha,      \
                                              const CU* x, int incx, CU* ap) {                                      \
    if (alpha == nullptr) return CUBLAS_STATUS_INVALID_VALUE;                                                       \
    const C* xs = reinterpret_cast<const C*>(x);                                                                    \
    return PackedRank2(h, uplo, n, Wide(*alpha, 0), xs, incx, xs, incx, reinterpret_cast<C*>(ap), true, true);     \
  }                                                                                                                 \
  FAKE_EXPORT cublasStatus_t cublas##P##hpr2_v2(cublasHandle_t h, cublasFillMode_t uplo, int n, const CU* alpha,    \
                                               const CU* x, int incx, const CU* y, int incy, CU* ap) {              \
    if (alpha == nullptr) return CUBLAS_STATUS_INVALID_VALUE;                                                       \
    return PackedRank2(h, uplo, n, W(*reinterpret_cast<const C*>(alpha)), reinterpret_cast<const C*>(x), incx,     \
                       reinterpret_cast<const C*>(y), incy, reinterpret_cast<C*>(ap), true, false);                 \
  }                                                                                                                 \
  FAKE_EXPORT cublasStatus_t cublas##P##tpmv_v2(cublasHandle_t h, cublasFillMode_t uplo, cublasOperation_t t,       \
                                               cublasDiagType_t diag, int n, const CU* ap, CU* x, int incx) {       \
    return Triangular(h, uplo, t, diag, n,                                                                          \
                      PackedElements(reinterpret_cast<const C*>(ap), uplo == CUBLAS_FILL_MODE_LOWER, n),            \
                      reinterpret_cast<C*>(x), incx, false);                                                        \
  }                                                                                                                 \
  FAKE_EXPORT cublasStatus_t cublas##P##tpsv_v2(cublasHandle_t h, cublasFillMode_t uplo, cublasOperation_t t,       \
                                               cublasDiagType_t diag, int n, const CU* ap, CU* x, int incx) {       \
    return Triangular(h, uplo, t, diag, n,                                                                          \
                      PackedElements(reinterpret_cast<const C*>(ap), uplo == CUBLAS_FILL_MODE_LOWER, n),            \
                      reinterpret_cast<C*>(x), incx, true);                                                         \
  }                                                                                                                 \
  FAKE_EXPORT cublasStatus_t cublas##P##trmv_v2(cublasHandle_t h, cublasFillMode_t uplo, cublasOperation_t t,       \
                                               cublasDiagType_t diag, int n, const CU* a, int lda, CU* x,           \
                                               int incx) {                                                          \
    if (lda < std::max(1, n)) return h == nullptr ? CUBLAS_STATUS_NOT_INITIALIZED : CUBLAS_STATUS_INVALID_VALUE;   \
    return Triangular(h, uplo, t, diag, n, FullElements(reinterpret_cast<const C*>(a), lda),                        \
                      reinterpret_cast<C*>(x), incx, false);                                                        \
  }                                                                                                                 \
  FAKE_EXPORT cublasStatus_t cublas##P##trsv_v2(cublasHandle_t h, cublasFillMode_t uplo, cublasOperation_t t,       \
                                               cublasDiagType_t diag, int n, const CU* a, int lda, CU* x,           \
                                               int incx) {                                                          \
    if (lda < std::max(1, n)) return h == nullptr ? CUBLAS_STATUS_NOT_INITIALIZED : CUBLAS_STATUS_INVALID_VALUE;   \
    return Triangular(h, uplo, t, diag, n, FullElements(reinterpret_cast<const C*>(a), lda),                        \
                      reinterpret_cast<C*>(x), incx, true);                                                         \
  }

FAKE_BAND(float, S)
FAKE_BAND(double, D)
FAKE_SPR2(float, S)
FAKE_SPR2(double, D)

// The band routines of complex precision, on C through the same templates.
#define FAKE_BAND_COMPLEX(CU, C, P)                                                                                 \
  FAKE_EXPORT cublasStatus_t cublas##P##gbmv_v2(cublasHandle_t h, cublasOperation_t t, int m, int n, int kl, int ku, \
                                               const CU* alpha, const CU* a, int lda, const CU* x, int incx,        \
                                               const CU* beta, CU* y, int incy) {                                   \
    return Gbmv(h, t, m, n, kl, ku, reinterpret_cast<const C*>(alpha), reinterpret_cast<const C*>(a), lda,         \
                reinterpret_cast<const C*>(x), incx, reinterpret_cast<const C*>(beta), reinterpret_cast<C*>(y),     \
                incy);                                                                                              \
  }                                                                                                                 \
  FAKE_EXPORT cublasStatus_t cublas##P##hbmv_v2(cublasHandle_t h, cublasFillMode_t uplo, int n, int k,              \
                                               const CU* alpha, const CU* a, int lda, const CU* x, int incx,        \
                                               const CU* beta, CU* y, int incy) {                                   \
    return SymmetricBandMv(h, uplo, n, k, reinterpret_cast<const C*>(alpha), reinterpret_cast<const C*>(a), lda,   \
                           reinterpret_cast<const C*>(x), incx, reinterpret_cast<const C*>(beta),                   \
                           reinterpret_cast<C*>(y), incy, /*hermitian=*/true);                                      \
  }                                                                                                                 \
  FAKE_EXPORT cublasStatus_t cublas##P##tbmv_v2(cublasHandle_t h, cublasFillMode_t uplo, cublasOperation_t t,       \
                                               cublasDiagType_t diag, int n, int k, const CU* a, int lda, CU* x,    \
                                               int incx) {                                                          \
    return BandTriangular(h, uplo, t, diag, n, k, reinterpret_cast<const C*>(a), lda, reinterpret_cast<C*>(x),     \
                          incx, /*solve=*/false);                                                                   \
  }                                                                                                                 \
  FAKE_EXPORT cublasStatus_t cublas##P##tbsv_v2(cublasHandle_t h, cublasFillMode_t uplo, cublasOperation_t t,       \
                                               cublasDiagType_t diag, int n, int k, const CU* a, int lda, CU* x,    \
                                               int incx) {                                                          \
    return BandTriangular(h, uplo, t, diag, n, k, reinterpret_cast<const C*>(a), lda, reinterpret_cast<C*>(x),     \
                          incx, /*solve=*/true);                                                                    \
  }

FAKE_BAND_COMPLEX(cuComplex, std::complex<float>, C)
FAKE_BAND_COMPLEX(cuDoubleComplex, std::complex<double>, Z)
FAKE_COMPLEX_PACKED(cuComplex, std::complex<float>, C, float)
FAKE_COMPLEX_PACKED(cuDoubleComplex, std::complex<double>, Z, double)
