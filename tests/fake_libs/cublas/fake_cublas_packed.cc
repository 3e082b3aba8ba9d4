// TEST EQUIPMENT: the host cuBLAS double's packed routines and HER2: S/D
// SPMV, SPR, TPMV and TPSV, C/Z HPMV (packed) and HER2 (a full matrix's
// `uplo` triangle), plain loops on the fake driver's host memory, in stream
// order as the rest of the double (fake_cublas.cc). A packed matrix holds
// its `uplo` triangle column by column; Hermitian diagonals are read and
// written real, as cuBLAS documents. Nothing here says anything about a GPU
// or NVIDIA's cuBLAS.
#include <cuComplex.h>

#include <complex>
#include <vector>

#include "tests/fake_libs/cublas/fake_cublas_wide.h"

namespace {

// Element (r, c) of a packed symmetric (or, for complex, Hermitian) matrix.
template <class T>
double SymmetricAt(const T* ap, cublasFillMode_t uplo, int n, int r, int c) {
  const bool lower = uplo == CUBLAS_FILL_MODE_LOWER;
  if (lower ? r < c : r > c) std::swap(r, c);
  return ap[PackedIndex(lower, n, r, c)];
}
template <class C>
Wide HermitianAt(const C* ap, cublasFillMode_t uplo, int n, int r, int c) {
  const bool lower = uplo == CUBLAS_FILL_MODE_LOWER;
  if (r == c) return Wide(ap[PackedIndex(lower, n, r, r)].real(), 0);
  const bool stored = lower ? r > c : r < c;
  const C v = stored ? ap[PackedIndex(lower, n, r, c)] : ap[PackedIndex(lower, n, c, r)];
  const Wide w(v.real(), v.imag());
  return stored ? w : std::conj(w);
}

// y = alpha A x + beta y, A from `at` (SPMV and HPMV).
template <class E, class Element>
cublasStatus_t PackedMv(cublasHandle_t h, cublasFillMode_t uplo, int n, const E* alpha, const E* x, int incx,
                        const E* beta, E* y, int incy, const Element& at) {
  if (h == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!ValidFill(uplo) || n < 0 || incx == 0 || incy == 0 || !alpha || !beta) return CUBLAS_STATUS_INVALID_VALUE;
  return MatVec(h, CUBLAS_OP_N, n, n, alpha, [&](int r, int c) { return Wide(at(r, c)); }, x, incx, beta, y, incy);
}

template <class T>
cublasStatus_t Spr(cublasHandle_t h, cublasFillMode_t uplo, int n, const T* alpha, const T* x, int incx, T* ap) {
  if (h == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!ValidFill(uplo) || n < 0 || incx == 0 || !alpha) return CUBLAS_STATUS_INVALID_VALUE;
  const bool lower = uplo == CUBLAS_FILL_MODE_LOWER;
  return OnStream(h, [&] {
    for (int j = 0; j < n; ++j)
      for (int i = lower ? j : 0; i < (lower ? n : j + 1); ++i) {
        T& a = ap[PackedIndex(lower, n, i, j)];
        a = static_cast<T>(a + double(*alpha) * double(x[At(i, n, incx)]) * double(x[At(j, n, incx)]));
      }
  });
}

// x = op(A) x (solve: x = op(A)^-1 x); A a packed triangle.
template <class T>
cublasStatus_t PackedTriangular(cublasHandle_t h, cublasFillMode_t uplo, cublasOperation_t trans,
                                cublasDiagType_t diag, int n, const T* ap, T* x, int incx, bool solve) {
  if (h == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!ValidFill(uplo) || !ValidOp(trans) || n < 0 || incx == 0) return CUBLAS_STATUS_INVALID_VALUE;
  const bool lower = uplo == CUBLAS_FILL_MODE_LOWER, transposed = Transposed(trans);
  auto op = [&](int r, int c) -> double {
    const int rr = transposed ? c : r, cc = transposed ? r : c;
    if (rr == cc && diag == CUBLAS_DIAG_UNIT) return 1.0;
    if (lower ? rr < cc : rr > cc) return 0.0;
    return ap[PackedIndex(lower, n, rr, cc)];
  };
  return OnStream(h, [&] {
    std::vector<double> v(n), out(n);
    for (int i = 0; i < n; ++i) v[i] = x[At(i, n, incx)];
    const bool forward = lower != transposed;  // op(A) lower: forward substitution
    for (int step = 0; step < n; ++step) {
      const int i = solve ? (forward ? step : n - 1 - step) : step;
      double sum = solve ? v[i] : 0;
      for (int j = 0; j < n; ++j) {
        if (!solve) sum += op(i, j) * v[j];
        else if (forward ? j < i : j > i) sum -= op(i, j) * out[j];
      }
      out[i] = solve ? sum / op(i, i) : sum;
    }
    for (int i = 0; i < n; ++i) x[At(i, n, incx)] = static_cast<T>(out[i]);
  });
}

// A = alpha x y^H + conj(alpha) y x^H + A, in A's `uplo` triangle.
template <class C>
cublasStatus_t Her2(cublasHandle_t h, cublasFillMode_t uplo, int n, const C* alpha, const C* x, int incx, const C* y,
                    int incy, C* A, int lda) {
  if (h == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!ValidFill(uplo) || n < 0 || incx == 0 || incy == 0 || lda < std::max(1, n) || !alpha)
    return CUBLAS_STATUS_INVALID_VALUE;
  const bool lower = uplo == CUBLAS_FILL_MODE_LOWER;
  auto w = [](const C& v) { return Wide(v.real(), v.imag()); };
  return OnStream(h, [&] {
    const Wide a = w(*alpha);
    for (int j = 0; j < n; ++j)
      for (int i = lower ? j : 0; i < (lower ? n : j + 1); ++i) {
        C& out = A[i + static_cast<long long>(j) * lda];
        const Wide xi = w(x[At(i, n, incx)]), xj = w(x[At(j, n, incx)]), yi = w(y[At(i, n, incy)]),
                   yj = w(y[At(j, n, incy)]);
        Wide v = (i == j ? Wide(out.real(), 0) : w(out)) + a * xi * std::conj(yj) + std::conj(a) * yi * std::conj(xj);
        if (i == j) v = Wide(v.real(), 0);
        out = C(static_cast<typename C::value_type>(v.real()), static_cast<typename C::value_type>(v.imag()));
      }
  });
}

}  // namespace

#define FAKE_PACKED_REAL(T, S)                                                                                   \
  FAKE_EXPORT cublasStatus_t cublas##S##spmv_v2(cublasHandle_t h, cublasFillMode_t uplo, int n, const T* a,      \
                                               const T* ap, const T* x, int incx, const T* b, T* y, int incy) {  \
    return PackedMv(h, uplo, n, a, x, incx, b, y, incy,                                               \
                               [&](int r, int c) { return SymmetricAt(ap, uplo, n, r, c); });                    \
  }                                                                                                              \
  FAKE_EXPORT cublasStatus_t cublas##S##spr_v2(cublasHandle_t h, cublasFillMode_t uplo, int n, const T* a,       \
                                              const T* x, int incx, T* ap) {                                     \
    return Spr(h, uplo, n, a, x, incx, ap);                                                                      \
  }                                                                                                              \
  FAKE_EXPORT cublasStatus_t cublas##S##tpmv_v2(cublasHandle_t h, cublasFillMode_t uplo, cublasOperation_t t,    \
                                               cublasDiagType_t diag, int n, const T* ap, T* x, int incx) {      \
    return PackedTriangular(h, uplo, t, diag, n, ap, x, incx, /*solve=*/false);                                  \
  }                                                                                                              \
  FAKE_EXPORT cublasStatus_t cublas##S##tpsv_v2(cublasHandle_t h, cublasFillMode_t uplo, cublasOperation_t t,    \
                                               cublasDiagType_t diag, int n, const T* ap, T* x, int incx) {      \
    return PackedTriangular(h, uplo, t, diag, n, ap, x, incx, /*solve=*/true);                                   \
  }

#define FAKE_PACKED_COMPLEX(CU, C, P)                                                                            \
  FAKE_EXPORT cublasStatus_t cublas##P##hpmv_v2(cublasHandle_t h, cublasFillMode_t uplo, int n, const CU* a,     \
                                               const CU* ap, const CU* x, int incx, const CU* b, CU* y,          \
                                               int incy) {                                                       \
    const C* p = reinterpret_cast<const C*>(ap);                                                                 \
    return PackedMv(h, uplo, n, reinterpret_cast<const C*>(a), reinterpret_cast<const C*>(x), incx,     \
                             reinterpret_cast<const C*>(b), reinterpret_cast<C*>(y), incy,                       \
                             [&](int r, int c) { return HermitianAt(p, uplo, n, r, c); });                       \
  }                                                                                                              \
  FAKE_EXPORT cublasStatus_t cublas##P##her2_v2(cublasHandle_t h, cublasFillMode_t uplo, int n, const CU* a,     \
                                               const CU* x, int incx, const CU* y, int incy, CU* A, int lda) {   \
    return Her2(h, uplo, n, reinterpret_cast<const C*>(a), reinterpret_cast<const C*>(x), incx,                 \
                reinterpret_cast<const C*>(y), incy, reinterpret_cast<C*>(A), lda);                              \
  }

FAKE_PACKED_REAL(float, S)
FAKE_PACKED_REAL(double, D)
FAKE_PACKED_COMPLEX(cuComplex, std::complex<float>, C)
FAKE_PACKED_COMPLEX(cuDoubleComplex, std::complex<double>, Z)
