// TEST EQUIPMENT: the host cuBLAS double's batched routines: LU, solve,
// inverse from the factors and direct inverse (getrf, getrs, getri, matinv
// Batched) in S, D, C and Z, in std::complex<double>; and the batched forms
// of single-matrix routines the double already has, as loops over it: C/Z
// GEMM (pointer arrays; GEMM3M, plain and strided, which is GEMM by another
// algorithm), H GEMM (pointer arrays and strided), C/Z GEMV (pointer arrays
// and strided) and C/Z TRSM (pointer arrays). The device memory is host
// memory here (fake_cublas.cc), so the pointer arrays are read directly.
// Nothing here says anything about a GPU or NVIDIA's cuBLAS.
#include <cuComplex.h>
#include <cuda_fp16.h>

#include <complex>
#include <vector>

#include "tests/fake_libs/cublas/fake_cublas_wide.h"

namespace {

// |re| + |im|: how cuBLAS's LU picks a pivot (|x| when real).
double PivotSize(const Wide& v) { return std::fabs(v.real()) + std::fabs(v.imag()); }

// LU of each n x n A[b] in place (L unit lower below the diagonal, U on and
// above), with partial pivoting when P is given (P[b*n + k]: the 1-based row
// swapped with row k, as LAPACK's getrf), none when it is null; info[b] is 0,
// or k + 1 for the first zero pivot.
template <class E>
cublasStatus_t GetrfBatched(cublasHandle_t h, int n, E* const A[], int lda, int* P, int* info, int batch) {
  if (h != nullptr && (n < 0 || lda < std::max(1, n) || batch < 0 || info == nullptr))
    return CUBLAS_STATUS_INVALID_VALUE;
  return OnStream(h, [&] {
    for (int b = 0; b < batch; ++b) {
      E* a = A[b];
      auto at = [&](int r, int c) -> E& { return a[Index(r, c, lda)]; };
      info[b] = 0;
      for (int k = 0; k < n; ++k) {
        int pivot = k;
        if (P != nullptr) {
          for (int r = k + 1; r < n; ++r)
            if (PivotSize(W(at(r, k))) > PivotSize(W(at(pivot, k)))) pivot = r;
          P[b * n + k] = pivot + 1;
          for (int c = 0; c < n; ++c) std::swap(at(k, c), at(pivot, c));
        }
        if (W(at(k, k)) == Wide(0)) {
          if (info[b] == 0) info[b] = k + 1;
          continue;
        }
        for (int r = k + 1; r < n; ++r) {
          const Wide l = W(at(r, k)) / W(at(k, k));
          at(r, k) = Narrow<E>(l);
          for (int c = k + 1; c < n; ++c) at(r, c) = Narrow<E>(W(at(r, c)) - l * W(at(k, c)));
        }
      }
    }
  });
}

// Solves op(A) x = b with GetrfBatched's factors of one matrix: x holds b
// on entry; op N, T or C (A = P^T L U).
template <class E>
void SolveFactored(cublasOperation_t trans, int n, const E* lu_data, int lda, const int* pivots, E* x) {
  auto lu = [&](int r, int c) { return W(lu_data[Index(r, c, lda)]); };
  auto op = [&](const Wide& v) { return trans == CUBLAS_OP_C ? std::conj(v) : v; };
  std::vector<Wide> v(n);
  for (int i = 0; i < n; ++i) v[i] = W(x[i]);
  if (trans == CUBLAS_OP_N) {
    if (pivots != nullptr)
      for (int k = 0; k < n; ++k) std::swap(v[k], v[pivots[k] - 1]);
    for (int r = 0; r < n; ++r)
      for (int c = 0; c < r; ++c) v[r] -= lu(r, c) * v[c];
    for (int r = n - 1; r >= 0; --r) {
      for (int c = r + 1; c < n; ++c) v[r] -= lu(r, c) * v[c];
      v[r] /= lu(r, r);
    }
  } else {  // op(A) = op(U) op(L) P
    for (int r = 0; r < n; ++r) {
      for (int c = 0; c < r; ++c) v[r] -= op(lu(c, r)) * v[c];
      v[r] /= op(lu(r, r));
    }
    for (int r = n - 1; r >= 0; --r)
      for (int c = r + 1; c < n; ++c) v[r] -= op(lu(c, r)) * v[c];
    if (pivots != nullptr)
      for (int k = n - 1; k >= 0; --k) std::swap(v[k], v[pivots[k] - 1]);
  }
  for (int i = 0; i < n; ++i) x[i] = Narrow<E>(v[i]);
}

template <class E>
cublasStatus_t GetrsBatched(cublasHandle_t h, cublasOperation_t trans, int n, int nrhs, const E* const A[], int lda,
                            const int* ipiv, E* const B[], int ldb, int* info, int batch) {
  if (h == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (info == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
  *info = 0;
  if (!ValidOp(trans) || n < 0 || nrhs < 0 || lda < std::max(1, n) || ldb < std::max(1, n) || batch < 0) {
    *info = !ValidOp(trans) ? -1 : n < 0 ? -2 : nrhs < 0 ? -3 : lda < std::max(1, n) ? -5 : ldb < std::max(1, n) ? -8
                                                                                                                : -10;
    return CUBLAS_STATUS_INVALID_VALUE;
  }
  return OnStream(h, [&] {
    for (int b = 0; b < batch; ++b)
      for (int j = 0; j < nrhs; ++j)
        SolveFactored(trans, n, A[b], lda, ipiv ? ipiv + static_cast<long long>(b) * n : nullptr,
                      B[b] + static_cast<long long>(j) * ldb);
  });
}

// C[b] = A[b]^-1 from GetrfBatched's factors (getriBatched): the identity's
// columns solved one by one; info[b] is the first zero of U's diagonal.
template <class E>
cublasStatus_t GetriBatched(cublasHandle_t h, int n, const E* const A[], int lda, const int* P, E* const C[], int ldc,
                            int* info, int batch) {
  if (h != nullptr && (n < 0 || lda < std::max(1, n) || ldc < std::max(1, n) || batch < 0 || info == nullptr))
    return CUBLAS_STATUS_INVALID_VALUE;
  return OnStream(h, [&] {
    for (int b = 0; b < batch; ++b) {
      info[b] = 0;
      for (int k = 0; k < n && info[b] == 0; ++k)
        if (W(A[b][Index(k, k, lda)]) == Wide(0)) info[b] = k + 1;
      if (info[b] != 0) continue;
      for (int j = 0; j < n; ++j) {
        E* column = C[b] + static_cast<long long>(j) * ldc;
        for (int i = 0; i < n; ++i) column[i] = Narrow<E>(i == j ? Wide(1) : Wide(0));
        SolveFactored(CUBLAS_OP_N, n, A[b], lda, P ? P + static_cast<long long>(b) * n : nullptr, column);
      }
    }
  });
}

// The inverse of each A[b] by Gauss-Jordan elimination with partial
// pivoting (n <= 32, as cuBLAS's); info[b] as GetrfBatched's.
template <class E>
cublasStatus_t MatinvBatched(cublasHandle_t h, int n, const E* const A[], int lda, E* const Ainv[], int lda_inv,
                             int* info, int batch) {
  if (h != nullptr && (n < 0 || n > 32 || lda < std::max(1, n) || lda_inv < std::max(1, n) || batch < 0 ||
                       info == nullptr))
    return CUBLAS_STATUS_INVALID_VALUE;
  return OnStream(h, [&] {
    for (int b = 0; b < batch; ++b) {
      std::vector<Wide> m(static_cast<size_t>(n) * 2 * n, 0.0);  // [A | I], row-major
      auto at = [&](int r, int c) -> Wide& { return m[static_cast<size_t>(r) * 2 * n + c]; };
      for (int r = 0; r < n; ++r) {
        for (int c = 0; c < n; ++c) at(r, c) = W(A[b][Index(r, c, lda)]);
        at(r, n + r) = 1.0;
      }
      info[b] = 0;
      for (int k = 0; k < n && info[b] == 0; ++k) {
        int pivot = k;
        for (int r = k + 1; r < n; ++r)
          if (PivotSize(at(r, k)) > PivotSize(at(pivot, k))) pivot = r;
        if (at(pivot, k) == Wide(0)) {
          info[b] = k + 1;
          break;
        }
        for (int c = 0; c < 2 * n; ++c) std::swap(at(k, c), at(pivot, c));
        const Wide d = at(k, k);
        for (int c = 0; c < 2 * n; ++c) at(k, c) /= d;
        for (int r = 0; r < n; ++r) {
          if (r == k) continue;
          const Wide f = at(r, k);
          for (int c = 0; c < 2 * n; ++c) at(r, c) -= f * at(k, c);
        }
      }
      for (int r = 0; r < n; ++r)
        for (int c = 0; c < n; ++c) Ainv[b][Index(r, c, lda_inv)] = Narrow<E>(at(r, n + c));
    }
  });
}

bool BatchOk(cublasHandle_t h, int batch) { return h == nullptr || batch >= 0; }

}  // namespace

// The complex functions take cuComplex / cuDoubleComplex, laid out as C.
#define FAKE_BATCHED_LU(CU, E, P)                                                                                   \
  FAKE_EXPORT cublasStatus_t cublas##P##getrfBatched(cublasHandle_t h, int n, CU* const A[], int lda, int* piv,     \
                                                     int* info, int batch) {                                       \
    return GetrfBatched(h, n, reinterpret_cast<E* const*>(A), lda, piv, info, batch);                             \
  }                                                                                                                 \
  FAKE_EXPORT cublasStatus_t cublas##P##getrsBatched(cublasHandle_t h, cublasOperation_t t, int n, int nrhs,        \
                                                     const CU* const A[], int lda, const int* ipiv,                \
                                                     CU* const B[], int ldb, int* info, int batch) {                \
    return GetrsBatched(h, t, n, nrhs, reinterpret_cast<const E* const*>(A), lda, ipiv,                           \
                        reinterpret_cast<E* const*>(B), ldb, info, batch);                                          \
  }                                                                                                                 \
  FAKE_EXPORT cublasStatus_t cublas##P##getriBatched(cublasHandle_t h, int n, const CU* const A[], int lda,         \
                                                     const int* piv, CU* const C[], int ldc, int* info, int batch) { \
    return GetriBatched(h, n, reinterpret_cast<const E* const*>(A), lda, piv, reinterpret_cast<E* const*>(C), ldc,  \
                        info, batch);                                                                               \
  }                                                                                                                 \
  FAKE_EXPORT cublasStatus_t cublas##P##matinvBatched(cublasHandle_t h, int n, const CU* const A[], int lda,        \
                                                      CU* const Ainv[], int lda_inv, int* info, int batch) {        \
    return MatinvBatched(h, n, reinterpret_cast<const E* const*>(A), lda, reinterpret_cast<E* const*>(Ainv),        \
                         lda_inv, info, batch);                                                                     \
  }

FAKE_BATCHED_LU(float, float, S)
FAKE_BATCHED_LU(double, double, D)
FAKE_BATCHED_LU(cuComplex, std::complex<float>, C)
FAKE_BATCHED_LU(cuDoubleComplex, std::complex<double>, Z)

// C and Z batched GEMM, GEMM3M, GEMV and TRSM: loops over the double's own
// single-matrix exports (each waits for the handle's stream).
#define FAKE_BATCHED_COMPLEX(CU, P)                                                                                  \
  FAKE_EXPORT cublasStatus_t cublas##P##gemmBatched(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb,   \
                                                    int m, int n, int k, const CU* alpha, const CU* const A[],      \
                                                    int lda, const CU* const B[], int ldb, const CU* beta,          \
                                                    CU* const C[], int ldc, int batch) {                            \
    if (!BatchOk(h, batch)) return CUBLAS_STATUS_INVALID_VALUE;                                                     \
    for (int b = 0; b < batch; ++b) {                                                                               \
      cublasStatus_t s = cublas##P##gemm_v2(h, ta, tb, m, n, k, alpha, A[b], lda, B[b], ldb, beta, C[b], ldc);      \
      if (s != CUBLAS_STATUS_SUCCESS) return s;                                                                     \
    }                                                                                                               \
    return h == nullptr ? CUBLAS_STATUS_NOT_INITIALIZED : CUBLAS_STATUS_SUCCESS;                                    \
  }                                                                                                                 \
  FAKE_EXPORT cublasStatus_t cublas##P##gemm3m(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, \
                                               int n, int k, const CU* alpha, const CU* A, int lda, const CU* B,   \
                                               int ldb, const CU* beta, CU* C, int ldc) {                           \
    return cublas##P##gemm_v2(h, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);                             \
  }                                                                                                                 \
  FAKE_EXPORT cublasStatus_t cublas##P##gemvBatched(cublasHandle_t h, cublasOperation_t t, int m, int n,            \
                                                    const CU* alpha, const CU* const A[], int lda,                  \
                                                    const CU* const x[], int incx, const CU* beta, CU* const y[],   \
                                                    int incy, int batch) {                                          \
    if (!BatchOk(h, batch)) return CUBLAS_STATUS_INVALID_VALUE;                                                     \
    for (int b = 0; b < batch; ++b) {                                                                               \
      cublasStatus_t s = cublas##P##gemv_v2(h, t, m, n, alpha, A[b], lda, x[b], incx, beta, y[b], incy);            \
      if (s != CUBLAS_STATUS_SUCCESS) return s;                                                                     \
    }                                                                                                               \
    return h == nullptr ? CUBLAS_STATUS_NOT_INITIALIZED : CUBLAS_STATUS_SUCCESS;                                    \
  }                                                                                                                 \
  FAKE_EXPORT cublasStatus_t cublas##P##gemvStridedBatched(                                                         \
      cublasHandle_t h, cublasOperation_t t, int m, int n, const CU* alpha, const CU* A, int lda, long long sa,     \
      const CU* x, int incx, long long sx, const CU* beta, CU* y, int incy, long long sy, int batch) {              \
    if (!BatchOk(h, batch)) return CUBLAS_STATUS_INVALID_VALUE;                                                     \
    for (int b = 0; b < batch; ++b) {                                                                               \
      cublasStatus_t s = cublas##P##gemv_v2(h, t, m, n, alpha, A + b * sa, lda, x + b * sx, incx, beta, y + b * sy,  \
                                            incy);                                                                  \
      if (s != CUBLAS_STATUS_SUCCESS) return s;                                                                     \
    }                                                                                                               \
    return h == nullptr ? CUBLAS_STATUS_NOT_INITIALIZED : CUBLAS_STATUS_SUCCESS;                                    \
  }                                                                                                                 \
  FAKE_EXPORT cublasStatus_t cublas##P##trsmBatched(cublasHandle_t h, cublasSideMode_t side, cublasFillMode_t uplo, \
                                                    cublasOperation_t t, cublasDiagType_t diag, int m, int n,       \
                                                    const CU* alpha, const CU* const A[], int lda, CU* const B[],   \
                                                    int ldb, int batch) {                                           \
    if (!BatchOk(h, batch)) return CUBLAS_STATUS_INVALID_VALUE;                                                     \
    for (int b = 0; b < batch; ++b) {                                                                               \
      cublasStatus_t s = cublas##P##trsm_v2(h, side, uplo, t, diag, m, n, alpha, A[b], lda, B[b], ldb);             \
      if (s != CUBLAS_STATUS_SUCCESS) return s;                                                                     \
    }                                                                                                               \
    return h == nullptr ? CUBLAS_STATUS_NOT_INITIALIZED : CUBLAS_STATUS_SUCCESS;                                    \
  }

FAKE_BATCHED_COMPLEX(cuComplex, C)
FAKE_BATCHED_COMPLEX(cuDoubleComplex, Z)

FAKE_EXPORT cublasStatus_t cublasCgemm3mStridedBatched(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb,
                                                       int m, int n, int k, const cuComplex* alpha, const cuComplex* A,
                                                       int lda, long long sa, const cuComplex* B, int ldb,
                                                       long long sb, const cuComplex* beta, cuComplex* C, int ldc,
                                                       long long sc, int batch) {
  return cublasCgemmStridedBatched(h, ta, tb, m, n, k, alpha, A, lda, sa, B, ldb, sb, beta, C, ldc, sc, batch);
}

// H GEMM, pointer arrays and strided: loops over the double's cublasHgemm.
FAKE_EXPORT cublasStatus_t cublasHgemmBatched(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m,
                                              int n, int k, const __half* alpha, const __half* const A[], int lda,
                                              const __half* const B[], int ldb, const __half* beta,
                                              __half* const C[], int ldc, int batch) {
  if (!BatchOk(h, batch)) return CUBLAS_STATUS_INVALID_VALUE;
  for (int b = 0; b < batch; ++b) {
    cublasStatus_t s = cublasHgemm(h, ta, tb, m, n, k, alpha, A[b], lda, B[b], ldb, beta, C[b], ldc);
    if (s != CUBLAS_STATUS_SUCCESS) return s;
  }
  return h == nullptr ? CUBLAS_STATUS_NOT_INITIALIZED : CUBLAS_STATUS_SUCCESS;
}
FAKE_EXPORT cublasStatus_t cublasHgemmStridedBatched(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb,
                                                     int m, int n, int k, const __half* alpha, const __half* A, int lda,
                                                     long long sa, const __half* B, int ldb, long long sb,
                                                     const __half* beta, __half* C, int ldc, long long sc, int batch) {
  if (!BatchOk(h, batch)) return CUBLAS_STATUS_INVALID_VALUE;
  for (int b = 0; b < batch; ++b) {
    cublasStatus_t s =
        cublasHgemm(h, ta, tb, m, n, k, alpha, A + b * sa, lda, B + b * sb, ldb, beta, C + b * sc, ldc);
    if (s != CUBLAS_STATUS_SUCCESS) return s;
  }
  return h == nullptr ? CUBLAS_STATUS_NOT_INITIALIZED : CUBLAS_STATUS_SUCCESS;
}
