// TEST EQUIPMENT: the host cuBLAS double's complex functions (cuComplex and
// cuDoubleComplex, read as std::complex, whose layout they share): GEMM,
// strided batched GEMM, GEMV, GEAM, AXPY, SCAL (complex and real scalars),
// DOTC, DOTU, NRM2 and COPY, plain loops summed in std::complex<double> on
// the fake driver's host memory, in stream order as the rest of the double
// (fake_cublas.cc). Nothing here says anything about a GPU or NVIDIA's cuBLAS.
#include <cuComplex.h>

#include <complex>
#include <vector>

#include "tests/fake_libs/cublas/fake_cublas_wide.h"

namespace {

// op(M)[r][c]: M itself, its transpose, or its conjugate transpose.
template <class C>
Wide Op(cublasOperation_t op, const C* m, int ld, int r, int c) {
  if (op == CUBLAS_OP_N) return W(m[r + static_cast<long long>(c) * ld]);
  const Wide v = W(m[c + static_cast<long long>(r) * ld]);
  return op == CUBLAS_OP_C ? std::conj(v) : v;
}

template <class C>
cublasStatus_t Gemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, const C* alpha,
                    const C* A, int lda, long long sa, const C* B, int ldb, long long sb, const C* beta, C* Cm,
                    int ldc, long long sc, int batch) {
  if (h == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!ValidOp(ta) || !ValidOp(tb) || m < 0 || n < 0 || k < 0 || batch < 0 || !alpha || !beta)
    return CUBLAS_STATUS_INVALID_VALUE;
  if (lda < std::max(1, Transposed(ta) ? k : m) || ldb < std::max(1, Transposed(tb) ? n : k) || ldc < std::max(1, m))
    return CUBLAS_STATUS_INVALID_VALUE;
  return OnStream(h, [&] {
    const Wide a = W(*alpha), b = W(*beta);
    for (int q = 0; q < batch; ++q) {
      const C* Aq = A + sa * q;
      const C* Bq = B + sb * q;
      C* Cq = Cm + sc * q;
      for (int j = 0; j < n; ++j)
        for (int i = 0; i < m; ++i) {
          Wide sum = 0;
          for (int p = 0; p < k; ++p) sum += Op(ta, Aq, lda, i, p) * Op(tb, Bq, ldb, p, j);
          C& out = Cq[i + static_cast<long long>(j) * ldc];
          out = Narrow<C>(b == Wide(0) ? a * sum : a * sum + b * W(out));
        }
    }
  });
}

template <class C>
cublasStatus_t Gemv(cublasHandle_t h, cublasOperation_t trans, int m, int n, const C* alpha, const C* A, int lda,
                    const C* x, int incx, const C* beta, C* y, int incy) {
  if (h == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!ValidOp(trans) || m < 0 || n < 0 || lda < std::max(1, m) || incx == 0 || incy == 0 || !alpha || !beta)
    return CUBLAS_STATUS_INVALID_VALUE;
  const int rows = Transposed(trans) ? n : m, cols = Transposed(trans) ? m : n;
  return OnStream(h, [&] {
    for (int i = 0; i < rows; ++i) {
      Wide sum = 0;
      for (int j = 0; j < cols; ++j) sum += Op(trans, A, lda, i, j) * W(x[At(j, cols, incx)]);
      C& out = y[At(i, rows, incy)];
      out = Narrow<C>(W(*beta) == Wide(0) ? W(*alpha) * sum : W(*alpha) * sum + W(*beta) * W(out));
    }
  });
}

template <class C>
cublasStatus_t Geam(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, const C* alpha,
                    const C* A, int lda, const C* beta, const C* B, int ldb, C* Cm, int ldc) {
  if (h == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!ValidOp(ta) || !ValidOp(tb) || m < 0 || n < 0 || ldc < std::max(1, m) || !alpha || !beta)
    return CUBLAS_STATUS_INVALID_VALUE;
  return OnStream(h, [&] {
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < m; ++i)
        Cm[i + static_cast<long long>(j) * ldc] =
            Narrow<C>(W(*alpha) * Op(ta, A, lda, i, j) + W(*beta) * Op(tb, B, ldb, i, j));
  });
}

template <class C>
cublasStatus_t Axpy(cublasHandle_t h, int n, const C* alpha, const C* x, int incx, C* y, int incy) {
  if (h != nullptr && alpha == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
  return OnStream(h, [&] {
    for (int i = 0; i < n; ++i) y[At(i, n, incy)] = Narrow<C>(W(y[At(i, n, incy)]) + W(*alpha) * W(x[At(i, n, incx)]));
  });
}

// x *= alpha, alpha complex (S = C) or real (S = float or double).
template <class C, class S>
cublasStatus_t Scal(cublasHandle_t h, int n, const S* alpha, C* x, int incx) {
  if (h != nullptr && alpha == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
  return OnStream(h, [&] {
    for (int i = 0; incx > 0 && i < n; ++i) {
      C& v = x[static_cast<long long>(i) * incx];
      v = Narrow<C>(W(v) * Wide(*alpha));
    }
  });
}

// sum conj(x_i) y_i (conjugated) or x_i y_i.
template <class C>
cublasStatus_t Dot(cublasHandle_t h, int n, const C* x, int incx, const C* y, int incy, C* result, bool conjugated) {
  if (h != nullptr && result == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
  return OnStream(h, [&] {
    Wide sum = 0;
    for (int i = 0; i < n; ++i) {
      const Wide a = W(x[At(i, n, incx)]);
      sum += (conjugated ? std::conj(a) : a) * W(y[At(i, n, incy)]);
    }
    *result = Narrow<C>(sum);
  });
}

template <class C, class R>
cublasStatus_t Nrm2(cublasHandle_t h, int n, const C* x, int incx, R* result) {
  if (h != nullptr && result == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
  return OnStream(h, [&] {
    double sum = 0;
    for (int i = 0; incx > 0 && i < n; ++i) sum += std::norm(W(x[static_cast<long long>(i) * incx]));
    *result = static_cast<R>(std::sqrt(sum));
  });
}

template <class C>
cublasStatus_t Copy(cublasHandle_t h, int n, const C* x, int incx, C* y, int incy) {
  return OnStream(h, [&] {
    for (int i = 0; i < n; ++i) y[At(i, n, incy)] = x[At(i, n, incx)];
  });
}

}  // namespace

// cuComplex and cuDoubleComplex are laid out as std::complex<float/double>.
static_assert(sizeof(cuComplex) == sizeof(std::complex<float>) && sizeof(cuDoubleComplex) == sizeof(std::complex<double>));

#define FAKE_COMPLEX(CU, C, R, P, RS, NRM)                                                                        \
  FAKE_EXPORT cublasStatus_t cublas##P##gemm_v2(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, \
                                               int n, int k, const CU* a, const CU* A, int lda, const CU* B,     \
                                               int ldb, const CU* b, CU* Cm, int ldc) {                           \
    return Gemm(h, ta, tb, m, n, k, reinterpret_cast<const C*>(a), reinterpret_cast<const C*>(A), lda, 0,         \
                reinterpret_cast<const C*>(B), ldb, 0, reinterpret_cast<const C*>(b), reinterpret_cast<C*>(Cm),   \
                ldc, 0, 1);                                                                                       \
  }                                                                                                               \
  FAKE_EXPORT cublasStatus_t cublas##P##gemmStridedBatched(                                                       \
      cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, const CU* a, const CU* A, \
      int lda, long long sa, const CU* B, int ldb, long long sb, const CU* b, CU* Cm, int ldc, long long sc,      \
      int batch) {                                                                                                \
    return Gemm(h, ta, tb, m, n, k, reinterpret_cast<const C*>(a), reinterpret_cast<const C*>(A), lda, sa,        \
                reinterpret_cast<const C*>(B), ldb, sb, reinterpret_cast<const C*>(b), reinterpret_cast<C*>(Cm),  \
                ldc, sc, batch);                                                                                  \
  }                                                                                                               \
  FAKE_EXPORT cublasStatus_t cublas##P##gemv_v2(cublasHandle_t h, cublasOperation_t t, int m, int n, const CU* a, \
                                               const CU* A, int lda, const CU* x, int incx, const CU* b, CU* y,  \
                                               int incy) {                                                        \
    return Gemv(h, t, m, n, reinterpret_cast<const C*>(a), reinterpret_cast<const C*>(A), lda,                   \
                reinterpret_cast<const C*>(x), incx, reinterpret_cast<const C*>(b), reinterpret_cast<C*>(y),      \
                incy);                                                                                            \
  }                                                                                                               \
  FAKE_EXPORT cublasStatus_t cublas##P##geam(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m,  \
                                            int n, const CU* a, const CU* A, int lda, const CU* b, const CU* B,  \
                                            int ldb, CU* Cm, int ldc) {                                           \
    return Geam(h, ta, tb, m, n, reinterpret_cast<const C*>(a), reinterpret_cast<const C*>(A), lda,              \
                reinterpret_cast<const C*>(b), reinterpret_cast<const C*>(B), ldb, reinterpret_cast<C*>(Cm), ldc);\
  }                                                                                                               \
  FAKE_EXPORT cublasStatus_t cublas##P##axpy_v2(cublasHandle_t h, int n, const CU* a, const CU* x, int incx,      \
                                               CU* y, int incy) {                                                 \
    return Axpy(h, n, reinterpret_cast<const C*>(a), reinterpret_cast<const C*>(x), incx,                        \
                reinterpret_cast<C*>(y), incy);                                                                   \
  }                                                                                                               \
  FAKE_EXPORT cublasStatus_t cublas##P##scal_v2(cublasHandle_t h, int n, const CU* a, CU* x, int incx) {          \
    return Scal(h, n, reinterpret_cast<const C*>(a), reinterpret_cast<C*>(x), incx);                             \
  }                                                                                                               \
  FAKE_EXPORT cublasStatus_t cublas##RS##scal_v2(cublasHandle_t h, int n, const R* a, CU* x, int incx) {          \
    return Scal(h, n, a, reinterpret_cast<C*>(x), incx);                                                          \
  }                                                                                                               \
  FAKE_EXPORT cublasStatus_t cublas##P##dotc_v2(cublasHandle_t h, int n, const CU* x, int incx, const CU* y,      \
                                               int incy, CU* r) {                                                 \
    return Dot(h, n, reinterpret_cast<const C*>(x), incx, reinterpret_cast<const C*>(y), incy,                   \
               reinterpret_cast<C*>(r), /*conjugated=*/true);                                                     \
  }                                                                                                               \
  FAKE_EXPORT cublasStatus_t cublas##P##dotu_v2(cublasHandle_t h, int n, const CU* x, int incx, const CU* y,      \
                                               int incy, CU* r) {                                                 \
    return Dot(h, n, reinterpret_cast<const C*>(x), incx, reinterpret_cast<const C*>(y), incy,                   \
               reinterpret_cast<C*>(r), /*conjugated=*/false);                                                    \
  }                                                                                                               \
  FAKE_EXPORT cublasStatus_t cublas##NRM##_v2(cublasHandle_t h, int n, const CU* x, int incx, R* r) {             \
    return Nrm2(h, n, reinterpret_cast<const C*>(x), incx, r);                                                    \
  }                                                                                                               \
  FAKE_EXPORT cublasStatus_t cublas##P##copy_v2(cublasHandle_t h, int n, const CU* x, int incx, CU* y, int incy) { \
    return Copy(h, n, reinterpret_cast<const C*>(x), incx, reinterpret_cast<C*>(y), incy);                        \
  }

FAKE_COMPLEX(cuComplex, std::complex<float>, float, C, Cs, Scnrm2)
FAKE_COMPLEX(cuDoubleComplex, std::complex<double>, double, Z, Zd, Dznrm2)
