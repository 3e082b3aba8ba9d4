// TEST EQUIPMENT: the host cuBLAS double's Hermitian functions in complex
// single and double precision: HEMV, HEMM, HERK, HER2K and HER, plain loops
// summed in std::complex<double> on the fake driver's host memory, in stream
// order as the rest of the double (fake_cublas.cc). As cuBLAS documents, a
// Hermitian matrix is read from its `uplo` triangle only, its diagonal's
// imaginary parts taken as zero, and HERK, HER2K and HER write that triangle
// only, with a real diagonal. Nothing here says anything about a GPU or
// NVIDIA's cuBLAS.
#include <cuComplex.h>

#include <complex>
#include <vector>

#include "tests/fake_libs/cublas/fake_cublas_wide.h"

namespace {

// Element (i, j) of the Hermitian matrix whose `uplo` triangle A holds.
template <class C>
Wide Herm(const C* A, int lda, cublasFillMode_t uplo, int i, int j) {
  if (i == j) return Wide(A[i + static_cast<long long>(i) * lda].real(), 0);
  const bool stored = uplo == CUBLAS_FILL_MODE_LOWER ? i > j : i < j;
  return stored ? W(A[i + static_cast<long long>(j) * lda]) : std::conj(W(A[j + static_cast<long long>(i) * lda]));
}

// c = value, with the diagonal's imaginary part zero.
template <class C>
void Store(C& c, Wide value, bool diagonal) {
  c = Narrow<C>(diagonal ? Wide(value.real(), 0) : value);
}

template <class C>
cublasStatus_t Hemv(cublasHandle_t h, cublasFillMode_t uplo, int n, const C* alpha, const C* A, int lda, const C* x,
                    int incx, const C* beta, C* y, int incy) {
  if (h == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!ValidFill(uplo) || n < 0 || lda < std::max(1, n) || incx == 0 || incy == 0 || !alpha || !beta)
    return CUBLAS_STATUS_INVALID_VALUE;
  return MatVec(h, CUBLAS_OP_N, n, n, alpha, [&](int i, int j) { return Herm(A, lda, uplo, i, j); }, x, incx, beta,
                y, incy);
}

// C = alpha A B + beta C (left) or alpha B A + beta C (right); A Hermitian.
template <class C>
cublasStatus_t Hemm(cublasHandle_t h, cublasSideMode_t side, cublasFillMode_t uplo, int m, int n, const C* alpha,
                    const C* A, int lda, const C* B, int ldb, const C* beta, C* Cm, int ldc) {
  if (h == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  const bool left = side == CUBLAS_SIDE_LEFT;
  if ((!left && side != CUBLAS_SIDE_RIGHT) || !ValidFill(uplo) || m < 0 || n < 0 ||
      lda < std::max(1, left ? m : n) || ldb < std::max(1, m) || ldc < std::max(1, m) || !alpha || !beta)
    return CUBLAS_STATUS_INVALID_VALUE;
  return OnStream(h, [&] {
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < m; ++i) {
        Wide sum = 0;
        if (left) {
          for (int p = 0; p < m; ++p) sum += Herm(A, lda, uplo, i, p) * W(B[p + static_cast<long long>(j) * ldb]);
        } else {
          for (int p = 0; p < n; ++p) sum += W(B[i + static_cast<long long>(p) * ldb]) * Herm(A, lda, uplo, p, j);
        }
        C& c = Cm[i + static_cast<long long>(j) * ldc];
        c = Narrow<C>(W(*beta) == Wide(0) ? W(*alpha) * sum : W(*alpha) * sum + W(*beta) * W(c));
      }
  });
}

// HERK (B null): C = alpha op(A) op(A)^H + beta C; HER2K: C = alpha op(A)
// op(B)^H + conj(alpha) op(B) op(A)^H + beta C. op(X) is X (n x k) or X^H.
template <class C>
cublasStatus_t Rank(cublasHandle_t h, cublasFillMode_t uplo, cublasOperation_t trans, int n, int k, Wide alpha,
                    const C* A, int lda, const C* B, int ldb, double beta, C* Cm, int ldc) {
  const bool t = trans == CUBLAS_OP_C;
  if (!ValidFill(uplo) || (trans != CUBLAS_OP_N && !t) || n < 0 || k < 0 || lda < std::max(1, t ? k : n) ||
      (B && ldb < std::max(1, t ? k : n)) || ldc < std::max(1, n))
    return CUBLAS_STATUS_INVALID_VALUE;
  auto op = [&](const C* X, int ld, int r, int p) {
    return t ? std::conj(W(X[p + static_cast<long long>(r) * ld])) : W(X[r + static_cast<long long>(p) * ld]);
  };
  return OnStream(h, [&] {
    ForTriangle(uplo, n, [&](int i, int j) {
      Wide sum = 0;
      for (int p = 0; p < k; ++p) {
        sum += B ? alpha * op(A, lda, i, p) * std::conj(op(B, ldb, j, p)) +
                       std::conj(alpha) * op(B, ldb, i, p) * std::conj(op(A, lda, j, p))
                 : alpha * op(A, lda, i, p) * std::conj(op(A, lda, j, p));
      }
      C& c = Cm[i + static_cast<long long>(j) * ldc];
      Store(c, beta == 0 ? sum : sum + beta * (i == j ? Wide(W(c).real(), 0) : W(c)), i == j);
    });
  });
}

// A = alpha x x^H + A, in A's `uplo` triangle.
template <class C>
cublasStatus_t Her(cublasHandle_t h, cublasFillMode_t uplo, int n, double alpha, const C* x, int incx, C* A,
                   int lda) {
  if (!ValidFill(uplo) || n < 0 || incx == 0 || lda < std::max(1, n)) return CUBLAS_STATUS_INVALID_VALUE;
  return OnStream(h, [&] {
    ForTriangle(uplo, n, [&](int i, int j) {
      C& a = A[i + static_cast<long long>(j) * lda];
      const Wide value = alpha * W(x[At(i, n, incx)]) * std::conj(W(x[At(j, n, incx)]));
      Store(a, (i == j ? Wide(W(a).real(), 0) : W(a)) + value, i == j);
    });
  });
}

}  // namespace

#define FAKE_HERMITIAN(CU, C, R, P)                                                                               \
  FAKE_EXPORT cublasStatus_t cublas##P##hemv_v2(cublasHandle_t h, cublasFillMode_t uplo, int n, const CU* a,      \
                                               const CU* A, int lda, const CU* x, int incx, const CU* b, CU* y,  \
                                               int incy) {                                                        \
    return Hemv(h, uplo, n, reinterpret_cast<const C*>(a), reinterpret_cast<const C*>(A), lda,                   \
                reinterpret_cast<const C*>(x), incx, reinterpret_cast<const C*>(b), reinterpret_cast<C*>(y),      \
                incy);                                                                                            \
  }                                                                                                               \
  FAKE_EXPORT cublasStatus_t cublas##P##hemm_v2(cublasHandle_t h, cublasSideMode_t side, cublasFillMode_t uplo,   \
                                               int m, int n, const CU* a, const CU* A, int lda, const CU* B,     \
                                               int ldb, const CU* b, CU* Cm, int ldc) {                           \
    return Hemm(h, side, uplo, m, n, reinterpret_cast<const C*>(a), reinterpret_cast<const C*>(A), lda,          \
                reinterpret_cast<const C*>(B), ldb, reinterpret_cast<const C*>(b), reinterpret_cast<C*>(Cm), ldc);\
  }                                                                                                               \
  FAKE_EXPORT cublasStatus_t cublas##P##herk_v2(cublasHandle_t h, cublasFillMode_t uplo, cublasOperation_t t,     \
                                               int n, int k, const R* a, const CU* A, int lda, const R* b,       \
                                               CU* Cm, int ldc) {                                                 \
    if (h == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;                                                       \
    if (!a || !b) return CUBLAS_STATUS_INVALID_VALUE;                                                             \
    return Rank(h, uplo, t, n, k, Wide(*a), reinterpret_cast<const C*>(A), lda, static_cast<const C*>(nullptr),  \
                0, *b, reinterpret_cast<C*>(Cm), ldc);                                                            \
  }                                                                                                               \
  FAKE_EXPORT cublasStatus_t cublas##P##her2k_v2(cublasHandle_t h, cublasFillMode_t uplo, cublasOperation_t t,    \
                                                int n, int k, const CU* a, const CU* A, int lda, const CU* B,    \
                                                int ldb, const R* b, CU* Cm, int ldc) {                           \
    if (h == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;                                                       \
    if (!a || !b || !B) return CUBLAS_STATUS_INVALID_VALUE;                                                       \
    return Rank(h, uplo, t, n, k, W(*reinterpret_cast<const C*>(a)), reinterpret_cast<const C*>(A), lda,         \
                reinterpret_cast<const C*>(B), ldb, *b, reinterpret_cast<C*>(Cm), ldc);                           \
  }                                                                                                               \
  FAKE_EXPORT cublasStatus_t cublas##P##her_v2(cublasHandle_t h, cublasFillMode_t uplo, int n, const R* a,        \
                                              const CU* x, int incx, CU* A, int lda) {                            \
    if (h == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;                                                       \
    if (!a) return CUBLAS_STATUS_INVALID_VALUE;                                                                   \
    return Her(h, uplo, n, *a, reinterpret_cast<const C*>(x), incx, reinterpret_cast<C*>(A), lda);                \
  }

FAKE_HERMITIAN(cuComplex, std::complex<float>, float, C)
FAKE_HERMITIAN(cuDoubleComplex, std::complex<double>, double, Z)
