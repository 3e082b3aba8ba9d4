// TEST EQUIPMENT: the host cuBLAS double's level 1 extras (swap, asum, the
// extreme indices, rotations), level 2 (ger, symv, trmv, trsv) and level 3
// beyond GEMM and TRSM (syrk, symm, trmm, dgmm), in single and double
// precision: plain loops summed in double on the fake driver's host memory,
// in stream order as the rest of the double (fake_cublas.cc). Nothing here
// says anything about a GPU or NVIDIA's cuBLAS.
#include <cmath>
#include <vector>

#include "tests/fake_libs/cublas/fake_cublas.h"

namespace {

// op(A)[r][c] of a triangular A (the `uplo` triangle, a unit diagonal when
// `diag` says so): zero outside the triangle.
template <class T>
struct Triangle {
  const T* a;
  int lda;
  bool lower, transposed, unit;
  Triangle(const T* a_, int lda_, cublasFillMode_t uplo, cublasOperation_t trans, cublasDiagType_t diag)
      : a(a_), lda(lda_), lower(uplo == CUBLAS_FILL_MODE_LOWER), transposed(Transposed(trans)),
        unit(diag == CUBLAS_DIAG_UNIT) {}
  double operator()(int r, int c) const {
    const int rr = transposed ? c : r, cc = transposed ? r : c;
    if (rr == cc && unit) return 1.0;
    if (lower ? rr < cc : rr > cc) return 0.0;
    return a[rr + static_cast<long long>(cc) * lda];
  }
};

// A symmetric A[r][c] read from its `uplo` triangle.
template <class T>
double Symmetric(const T* a, int lda, cublasFillMode_t uplo, int r, int c) {
  const bool lower = uplo == CUBLAS_FILL_MODE_LOWER;
  if (lower ? r < c : r > c) std::swap(r, c);
  return a[r + static_cast<long long>(c) * lda];
}

// The 1-based index of the first element of largest (or smallest) magnitude.
template <class T>
cublasStatus_t ExtremeIndex(cublasHandle_t h, int n, const T* x, int incx, int* result, bool largest) {
  if (h != nullptr && result == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
  return OnStream(h, [&] {
    int best = 0;
    for (int i = 0; incx > 0 && i < n; ++i) {
      const double v = std::fabs(static_cast<double>(x[static_cast<long long>(i) * incx]));
      const double b = best ? std::fabs(static_cast<double>(x[static_cast<long long>(best - 1) * incx])) : 0;
      if (best == 0 || (largest ? v > b : v < b)) best = i + 1;
    }
    *result = best;
  });
}

template <class T>
cublasStatus_t Rot(cublasHandle_t h, int n, T* x, int incx, T* y, int incy, const T* c, const T* s) {
  if (h != nullptr && (c == nullptr || s == nullptr)) return CUBLAS_STATUS_INVALID_VALUE;
  return OnStream(h, [&] {
    for (int i = 0; i < n; ++i) {
      T& a = x[At(i, n, incx)];
      T& b = y[At(i, n, incy)];
      const double xa = a, yb = b;
      a = static_cast<T>(*c * xa + *s * yb);
      b = static_cast<T>(-*s * xa + *c * yb);
    }
  });
}

// A += alpha x y^T; A m x n.
template <class T>
cublasStatus_t Ger(cublasHandle_t h, int m, int n, const T* alpha, const T* x, int incx, const T* y, int incy, T* A,
                   int lda) {
  if (h == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (m < 0 || n < 0 || incx == 0 || incy == 0 || lda < std::max(1, m) || !alpha) return CUBLAS_STATUS_INVALID_VALUE;
  return OnStream(h, [&] {
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < m; ++i)
        A[i + static_cast<long long>(j) * lda] += static_cast<T>(*alpha * static_cast<double>(x[At(i, m, incx)]) *
                                                                 y[At(j, n, incy)]);
  });
}

// y = alpha A x + beta y; A n x n symmetric.
template <class T>
cublasStatus_t Symv(cublasHandle_t h, cublasFillMode_t uplo, int n, const T* alpha, const T* A, int lda, const T* x,
                    int incx, const T* beta, T* y, int incy) {
  if (h == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (n < 0 || lda < std::max(1, n) || incx == 0 || incy == 0 || !alpha || !beta) return CUBLAS_STATUS_INVALID_VALUE;
  return OnStream(h, [&] {
    std::vector<double> out(n);
    for (int i = 0; i < n; ++i) {
      double sum = 0;
      for (int j = 0; j < n; ++j) sum += Symmetric(A, lda, uplo, i, j) * x[At(j, n, incx)];
      out[i] = *beta == T(0) ? *alpha * sum : *alpha * sum + *beta * static_cast<double>(y[At(i, n, incy)]);
    }
    for (int i = 0; i < n; ++i) y[At(i, n, incy)] = static_cast<T>(out[i]);
  });
}

// x = op(A) x (solve: x = op(A)^-1 x); A n x n triangular.
template <class T>
cublasStatus_t TriangularVector(cublasHandle_t h, cublasFillMode_t uplo, cublasOperation_t trans,
                                cublasDiagType_t diag, int n, const T* A, int lda, T* x, int incx, bool solve) {
  if (h == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!ValidOp(trans) || n < 0 || lda < std::max(1, n) || incx == 0) return CUBLAS_STATUS_INVALID_VALUE;
  const Triangle<T> op(A, lda, uplo, trans, diag);
  return OnStream(h, [&] {
    std::vector<double> v(n), out(n);
    for (int i = 0; i < n; ++i) v[i] = x[At(i, n, incx)];
    if (!solve) {
      for (int i = 0; i < n; ++i) {
        double sum = 0;
        for (int j = 0; j < n; ++j) sum += op(i, j) * v[j];
        out[i] = sum;
      }
    } else {
      const bool forward = op.lower != op.transposed;  // op(A) lower: forward substitution
      for (int step = 0; step < n; ++step) {
        const int i = forward ? step : n - 1 - step;
        double sum = v[i];
        for (int j = 0; j < n; ++j)
          if (forward ? j < i : j > i) sum -= op(i, j) * out[j];
        out[i] = sum / op(i, i);
      }
    }
    for (int i = 0; i < n; ++i) x[At(i, n, incx)] = static_cast<T>(out[i]);
  });
}

// C = alpha op(A) op(A)^T + beta C, the `uplo` triangle of C only; op(A) n x k.
template <class T>
cublasStatus_t Syrk(cublasHandle_t h, cublasFillMode_t uplo, cublasOperation_t trans, int n, int k, const T* alpha,
                    const T* A, int lda, const T* beta, T* C, int ldc) {
  if (h == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  const bool t = Transposed(trans);
  if (!ValidOp(trans) || n < 0 || k < 0 || lda < std::max(1, t ? k : n) || ldc < std::max(1, n) || !alpha || !beta)
    return CUBLAS_STATUS_INVALID_VALUE;
  auto op = [&](int r, int p) -> double {
    return t ? A[p + static_cast<long long>(r) * lda] : A[r + static_cast<long long>(p) * lda];
  };
  const bool lower = uplo == CUBLAS_FILL_MODE_LOWER;
  return OnStream(h, [&] {
    for (int j = 0; j < n; ++j)
      for (int i = lower ? j : 0; i < (lower ? n : j + 1); ++i) {
        double sum = 0;
        for (int p = 0; p < k; ++p) sum += op(i, p) * op(j, p);
        T& c = C[i + static_cast<long long>(j) * ldc];
        c = static_cast<T>(*beta == T(0) ? *alpha * sum : *alpha * sum + *beta * static_cast<double>(c));
      }
  });
}

// C = alpha A B + beta C (left) or alpha B A + beta C (right); A symmetric.
template <class T>
cublasStatus_t Symm(cublasHandle_t h, cublasSideMode_t side, cublasFillMode_t uplo, int m, int n, const T* alpha,
                    const T* A, int lda, const T* B, int ldb, const T* beta, T* C, int ldc) {
  if (h == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  const bool left = side == CUBLAS_SIDE_LEFT;
  const int k = left ? m : n;
  if (m < 0 || n < 0 || lda < std::max(1, k) || ldb < std::max(1, m) || ldc < std::max(1, m) || !alpha || !beta)
    return CUBLAS_STATUS_INVALID_VALUE;
  return OnStream(h, [&] {
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < m; ++i) {
        double sum = 0;
        for (int p = 0; p < k; ++p) {
          sum += left ? Symmetric(A, lda, uplo, i, p) * B[p + static_cast<long long>(j) * ldb]
                      : B[i + static_cast<long long>(p) * ldb] * Symmetric(A, lda, uplo, p, j);
        }
        T& c = C[i + static_cast<long long>(j) * ldc];
        c = static_cast<T>(*beta == T(0) ? *alpha * sum : *alpha * sum + *beta * static_cast<double>(c));
      }
  });
}

// C = alpha op(A) B (left) or alpha B op(A) (right), A triangular; C may be B.
template <class T>
cublasStatus_t Trmm(cublasHandle_t h, cublasSideMode_t side, cublasFillMode_t uplo, cublasOperation_t trans,
                    cublasDiagType_t diag, int m, int n, const T* alpha, const T* A, int lda, const T* B, int ldb,
                    T* C, int ldc) {
  if (h == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  const bool left = side == CUBLAS_SIDE_LEFT;
  const int k = left ? m : n;
  if (!ValidOp(trans) || m < 0 || n < 0 || lda < std::max(1, k) || ldb < std::max(1, m) || ldc < std::max(1, m) ||
      !alpha)
    return CUBLAS_STATUS_INVALID_VALUE;
  const Triangle<T> op(A, lda, uplo, trans, diag);
  return OnStream(h, [&] {
    std::vector<double> out(static_cast<size_t>(m) * n);
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < m; ++i) {
        double sum = 0;
        for (int p = 0; p < k; ++p) {
          sum += left ? op(i, p) * B[p + static_cast<long long>(j) * ldb]
                      : B[i + static_cast<long long>(p) * ldb] * op(p, j);
        }
        out[i + static_cast<size_t>(j) * m] = *alpha * sum;
      }
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < m; ++i) C[i + static_cast<long long>(j) * ldc] = static_cast<T>(out[i + static_cast<size_t>(j) * m]);
  });
}

// C = diag(x) A (left) or A diag(x) (right); an increment of 0 repeats x[0].
template <class T>
cublasStatus_t Dgmm(cublasHandle_t h, cublasSideMode_t mode, int m, int n, const T* A, int lda, const T* x, int incx,
                    T* C, int ldc) {
  if (h == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (m < 0 || n < 0 || lda < std::max(1, m) || ldc < std::max(1, m)) return CUBLAS_STATUS_INVALID_VALUE;
  const bool left = mode == CUBLAS_SIDE_LEFT;
  const int len = left ? m : n;
  return OnStream(h, [&] {
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < m; ++i) {
        const int d = left ? i : j;
        const T xd = incx == 0 ? x[0] : x[At(d, len, incx)];
        C[i + static_cast<long long>(j) * ldc] = A[i + static_cast<long long>(j) * lda] * xd;
      }
  });
}

}  // namespace

#define FAKE_MORE(T, S, lower)                                                                                           \
  FAKE_EXPORT cublasStatus_t cublasI##lower##amin_v2(cublasHandle_t h, int n, const T* x, int incx, int* r) {         \
    return ExtremeIndex(h, n, x, incx, r, /*largest=*/false);                                                     \
  }                                                                                                               \
  FAKE_EXPORT cublasStatus_t cublas##S##rot_v2(cublasHandle_t h, int n, T* x, int incx, T* y, int incy,           \
                                              const T* c, const T* s) {                                           \
    return Rot(h, n, x, incx, y, incy, c, s);                                                                     \
  }                                                                                                               \
  FAKE_EXPORT cublasStatus_t cublas##S##ger_v2(cublasHandle_t h, int m, int n, const T* a, const T* x, int incx,  \
                                              const T* y, int incy, T* A, int lda) {                              \
    return Ger(h, m, n, a, x, incx, y, incy, A, lda);                                                             \
  }                                                                                                               \
  FAKE_EXPORT cublasStatus_t cublas##S##symv_v2(cublasHandle_t h, cublasFillMode_t uplo, int n, const T* a,       \
                                               const T* A, int lda, const T* x, int incx, const T* b, T* y,      \
                                               int incy) {                                                        \
    return Symv(h, uplo, n, a, A, lda, x, incx, b, y, incy);                                                      \
  }                                                                                                               \
  FAKE_EXPORT cublasStatus_t cublas##S##trmv_v2(cublasHandle_t h, cublasFillMode_t uplo, cublasOperation_t t,     \
                                               cublasDiagType_t diag, int n, const T* A, int lda, T* x,          \
                                               int incx) {                                                        \
    return TriangularVector(h, uplo, t, diag, n, A, lda, x, incx, /*solve=*/false);                               \
  }                                                                                                               \
  FAKE_EXPORT cublasStatus_t cublas##S##trsv_v2(cublasHandle_t h, cublasFillMode_t uplo, cublasOperation_t t,     \
                                               cublasDiagType_t diag, int n, const T* A, int lda, T* x,          \
                                               int incx) {                                                        \
    return TriangularVector(h, uplo, t, diag, n, A, lda, x, incx, /*solve=*/true);                                \
  }                                                                                                               \
  FAKE_EXPORT cublasStatus_t cublas##S##syrk_v2(cublasHandle_t h, cublasFillMode_t uplo, cublasOperation_t t,     \
                                               int n, int k, const T* a, const T* A, int lda, const T* b, T* C,  \
                                               int ldc) {                                                         \
    return Syrk(h, uplo, t, n, k, a, A, lda, b, C, ldc);                                                          \
  }                                                                                                               \
  FAKE_EXPORT cublasStatus_t cublas##S##symm_v2(cublasHandle_t h, cublasSideMode_t side, cublasFillMode_t uplo,   \
                                               int m, int n, const T* a, const T* A, int lda, const T* B,        \
                                               int ldb, const T* b, T* C, int ldc) {                              \
    return Symm(h, side, uplo, m, n, a, A, lda, B, ldb, b, C, ldc);                                               \
  }                                                                                                               \
  FAKE_EXPORT cublasStatus_t cublas##S##trmm_v2(cublasHandle_t h, cublasSideMode_t side, cublasFillMode_t uplo,   \
                                               cublasOperation_t t, cublasDiagType_t diag, int m, int n,         \
                                               const T* a, const T* A, int lda, const T* B, int ldb, T* C,       \
                                               int ldc) {                                                         \
    return Trmm(h, side, uplo, t, diag, m, n, a, A, lda, B, ldb, C, ldc);                                         \
  }                                                                                                               \
  FAKE_EXPORT cublasStatus_t cublas##S##dgmm(cublasHandle_t h, cublasSideMode_t mode, int m, int n, const T* A,   \
                                            int lda, const T* x, int incx, T* C, int ldc) {                       \
    return Dgmm(h, mode, m, n, A, lda, x, incx, C, ldc);                                                          \
  }

FAKE_MORE(float, S, s)
FAKE_MORE(double, D, d)

FAKE_EXPORT cublasStatus_t cublasIdamax_v2(cublasHandle_t h, int n, const double* x, int incx, int* result) {
  return ExtremeIndex(h, n, x, incx, result, /*largest=*/true);
}
