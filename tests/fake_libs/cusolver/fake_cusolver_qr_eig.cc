// TEST EQUIPMENT: the host cuSOLVER double's QR (geqrf, LAPACK's Householder
// form: R on and above the diagonal, the reflectors below it and in TAU),
// the application of its Q (ormqr) and the symmetric eigensolver (syevd, by
// cyclic Jacobi rotations, eigenvalues ascending), in single and double
// precision, computed in double on the fake driver's host memory, in stream
// order as the rest of the double (fake_cusolver.cc). Nothing here says
// anything about a GPU or NVIDIA's cuSOLVER.
#include <cmath>
#include <numeric>
#include <vector>

#include "tests/fake_libs/cusolver/fake_cusolver.h"

namespace {

template <class T>
cusolverStatus_t Geqrf(cusolverDnHandle_t h, int m, int n, T* A, int lda, T* tau, T* work, int lwork, int* info) {
  if (h == nullptr) return CUSOLVER_STATUS_NOT_INITIALIZED;
  if (m < 0 || n < 0 || lda < std::max(1, m) || info == nullptr) return CUSOLVER_STATUS_INVALID_VALUE;
  if (std::min(m, n) > 0 && (tau == nullptr || work == nullptr || lwork < WorkElements(m)))
    return CUSOLVER_STATUS_INVALID_VALUE;
  if (WaitForStream(h) != CUSOLVER_STATUS_SUCCESS) return CUSOLVER_STATUS_EXECUTION_FAILED;
  for (int i = 0; i < std::min(m, n); ++i) {
    // The reflector H = I - tau v v^T with v = (1, x / (alpha - beta)) that
    // maps (alpha, x) to (beta, 0), as LAPACK's larfg.
    const double alpha = At(A, lda, i, i);
    double xnorm = 0;
    for (int k = i + 1; k < m; ++k) xnorm += double(At(A, lda, k, i)) * At(A, lda, k, i);
    xnorm = std::sqrt(xnorm);
    if (xnorm == 0) {
      tau[i] = 0;
      continue;
    }
    const double beta = -std::copysign(std::hypot(alpha, xnorm), alpha);
    tau[i] = static_cast<T>((beta - alpha) / beta);
    for (int k = i + 1; k < m; ++k) At(A, lda, k, i) = static_cast<T>(At(A, lda, k, i) / (alpha - beta));
    At(A, lda, i, i) = static_cast<T>(beta);
    for (int j = i + 1; j < n; ++j) {  // H applied to the columns on the right
      double w = At(A, lda, i, j);
      for (int k = i + 1; k < m; ++k) w += double(At(A, lda, k, i)) * At(A, lda, k, j);
      At(A, lda, i, j) = static_cast<T>(At(A, lda, i, j) - tau[i] * w);
      for (int k = i + 1; k < m; ++k) At(A, lda, k, j) = static_cast<T>(At(A, lda, k, j) - tau[i] * w * At(A, lda, k, i));
    }
  }
  *info = 0;
  return CUSOLVER_STATUS_SUCCESS;
}

// C = op(Q) C (left) or C op(Q) (right), Q = H_0 ... H_{k-1} from geqrf.
template <class T>
cusolverStatus_t Ormqr(cusolverDnHandle_t h, cublasSideMode_t side, cublasOperation_t trans, int m, int n, int k,
                       const T* A, int lda, const T* tau, T* C, int ldc, T* work, int lwork, int* info) {
  if (h == nullptr) return CUSOLVER_STATUS_NOT_INITIALIZED;
  const bool left = side == CUBLAS_SIDE_LEFT, transposed = trans == CUBLAS_OP_T;
  const int nq = left ? m : n;  // the order of Q
  if ((trans != CUBLAS_OP_N && trans != CUBLAS_OP_T) || m < 0 || n < 0 || k < 0 || k > nq ||
      lda < std::max(1, nq) || ldc < std::max(1, m) || info == nullptr)
    return CUSOLVER_STATUS_INVALID_VALUE;
  if (k > 0 && (work == nullptr || lwork < WorkElements(m))) return CUSOLVER_STATUS_INVALID_VALUE;
  if (WaitForStream(h) != CUSOLVER_STATUS_SUCCESS) return CUSOLVER_STATUS_EXECUTION_FAILED;
  // Q C applies H_{k-1} first; Q^T C applies H_0 first; from the right the
  // other way round.
  const bool ascending = left == transposed;
  auto v = [&](int i, int r) -> double { return r == i ? 1.0 : r > i ? At(A, lda, r, i) : 0.0; };
  for (int step = 0; step < k; ++step) {
    const int i = ascending ? step : k - 1 - step;
    if (left) {
      for (int j = 0; j < n; ++j) {
        double w = 0;
        for (int r = i; r < m; ++r) w += v(i, r) * At(C, ldc, r, j);
        for (int r = i; r < m; ++r) At(C, ldc, r, j) = static_cast<T>(At(C, ldc, r, j) - tau[i] * w * v(i, r));
      }
    } else {
      for (int r = 0; r < m; ++r) {
        double w = 0;
        for (int c = i; c < n; ++c) w += At(C, ldc, r, c) * v(i, c);
        for (int c = i; c < n; ++c) At(C, ldc, r, c) = static_cast<T>(At(C, ldc, r, c) - tau[i] * w * v(i, c));
      }
    }
  }
  *info = 0;
  return CUSOLVER_STATUS_SUCCESS;
}

// The eigenvalues of the symmetric A (its `uplo` triangle) into W,
// ascending, and the eigenvectors into A's columns (also for
// CUSOLVER_EIG_MODE_NOVECTOR, where A's contents are undefined afterwards).
template <class T>
cusolverStatus_t Syevd(cusolverDnHandle_t h, cusolverEigMode_t jobz, cublasFillMode_t uplo, int n, T* A, int lda,
                       T* W, T* work, int lwork, int* info) {
  if (h == nullptr) return CUSOLVER_STATUS_NOT_INITIALIZED;
  if ((jobz != CUSOLVER_EIG_MODE_NOVECTOR && jobz != CUSOLVER_EIG_MODE_VECTOR) || !ValidFill(uplo) || n < 0 ||
      lda < std::max(1, n) || info == nullptr)
    return CUSOLVER_STATUS_INVALID_VALUE;
  if (n > 0 && (W == nullptr || work == nullptr || lwork < WorkElements(n))) return CUSOLVER_STATUS_INVALID_VALUE;
  if (WaitForStream(h) != CUSOLVER_STATUS_SUCCESS) return CUSOLVER_STATUS_EXECUTION_FAILED;
  const bool lower = uplo == CUBLAS_FILL_MODE_LOWER;
  std::vector<double> a(static_cast<size_t>(n) * n), v(static_cast<size_t>(n) * n, 0.0);
  auto a_at = [&](int i, int j) -> double& { return a[i + static_cast<size_t>(j) * n]; };
  auto v_at = [&](int i, int j) -> double& { return v[i + static_cast<size_t>(j) * n]; };
  for (int j = 0; j < n; ++j) {
    v_at(j, j) = 1;
    for (int i = 0; i < n; ++i) a_at(i, j) = (lower ? i >= j : i <= j) ? At(A, lda, i, j) : At(A, lda, j, i);
  }
  int converged = 0;
  for (int sweep = 0; sweep < 100 && !converged; ++sweep) {
    double off = 0, total = 0;
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < n; ++i) (i == j ? total : off) += a_at(i, j) * a_at(i, j);
    if (off <= 1e-30 * (total + off)) {
      converged = 1;
      break;
    }
    for (int p = 0; p < n; ++p)
      for (int q = p + 1; q < n; ++q) {
        if (a_at(p, q) == 0) continue;
        // The rotation that zeroes a(p, q).
        const double theta = (a_at(q, q) - a_at(p, p)) / (2 * a_at(p, q));
        const double t = std::copysign(1.0, theta) / (std::fabs(theta) + std::sqrt(theta * theta + 1));
        const double c = 1 / std::sqrt(t * t + 1), s = t * c;
        for (int k = 0; k < n; ++k) {  // A J
          const double akp = a_at(k, p), akq = a_at(k, q);
          a_at(k, p) = c * akp - s * akq;
          a_at(k, q) = s * akp + c * akq;
        }
        for (int k = 0; k < n; ++k) {  // J^T A
          const double apk = a_at(p, k), aqk = a_at(q, k);
          a_at(p, k) = c * apk - s * aqk;
          a_at(q, k) = s * apk + c * aqk;
        }
        for (int k = 0; k < n; ++k) {  // V J
          const double vkp = v_at(k, p), vkq = v_at(k, q);
          v_at(k, p) = c * vkp - s * vkq;
          v_at(k, q) = s * vkp + c * vkq;
        }
      }
  }
  std::vector<int> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int x, int y) { return a_at(x, x) < a_at(y, y); });
  for (int j = 0; j < n; ++j) {
    W[j] = static_cast<T>(a_at(order[j], order[j]));
    for (int i = 0; i < n; ++i) At(A, lda, i, j) = static_cast<T>(v_at(i, order[j]));
  }
  *info = n == 0 || converged ? 0 : 1;  // LAPACK: > 0 when it did not converge
  return CUSOLVER_STATUS_SUCCESS;
}

}  // namespace

#define FAKE_QR_EIG(T, S)                                                                                          \
  FAKE_EXPORT cusolverStatus_t cusolverDn##S##geqrf_bufferSize(cusolverDnHandle_t h, int m, int n, T*, int lda,   \
                                                               int* lwork) {                                      \
    return Query(h, m, n, lda, lwork);                                                                             \
  }                                                                                                                \
  FAKE_EXPORT cusolverStatus_t cusolverDn##S##geqrf(cusolverDnHandle_t h, int m, int n, T* A, int lda, T* tau,    \
                                                    T* work, int lwork, int* info) {                               \
    return Geqrf(h, m, n, A, lda, tau, work, lwork, info);                                                         \
  }                                                                                                                \
  FAKE_EXPORT cusolverStatus_t cusolverDn##S##ormqr_bufferSize(cusolverDnHandle_t h, cublasSideMode_t, cublasOperation_t, \
                                                               int m, int n, int, const T*, int lda, const T*,    \
                                                               const T*, int, int* lwork) {                       \
    return Query(h, m, n, std::max(lda, m), lwork);                                                                \
  }                                                                                                                \
  FAKE_EXPORT cusolverStatus_t cusolverDn##S##ormqr(cusolverDnHandle_t h, cublasSideMode_t side,                  \
                                                    cublasOperation_t trans, int m, int n, int k, const T* A,      \
                                                    int lda, const T* tau, T* C, int ldc, T* work, int lwork,      \
                                                    int* info) {                                                   \
    return Ormqr(h, side, trans, m, n, k, A, lda, tau, C, ldc, work, lwork, info);                                 \
  }                                                                                                                \
  FAKE_EXPORT cusolverStatus_t cusolverDn##S##syevd_bufferSize(cusolverDnHandle_t h, cusolverEigMode_t,           \
                                                               cublasFillMode_t, int n, const T*, int lda,        \
                                                               const T*, int* lwork) {                            \
    return Query(h, n, n, lda, lwork);                                                                             \
  }                                                                                                                \
  FAKE_EXPORT cusolverStatus_t cusolverDn##S##syevd(cusolverDnHandle_t h, cusolverEigMode_t jobz,                 \
                                                    cublasFillMode_t uplo, int n, T* A, int lda, T* W, T* work,    \
                                                    int lwork, int* info) {                                        \
    return Syevd(h, jobz, uplo, n, A, lda, W, work, lwork, info);                                                  \
  }

FAKE_QR_EIG(float, S)
FAKE_QR_EIG(double, D)

// ---- The singular value decomposition (gesvd) -----------------------------------

namespace {

// A = U diag(S) V^T for m >= n by one-sided Jacobi rotations (Hestenes), the
// singular values descending. U is m x min(m,n) ('S'; 'A' only when m == n,
// a limit of this double: the completion of U's basis is not computed).
template <class T>
cusolverStatus_t Gesvd(cusolverDnHandle_t h, signed char jobu, signed char jobvt, int m, int n, T* A, int lda, T* S,
                       T* U, int ldu, T* VT, int ldvt, T* work, int lwork, int* info) {
  if (h == nullptr) return CUSOLVER_STATUS_NOT_INITIALIZED;
  const bool want_u = jobu == 'S' || jobu == 'A', want_v = jobvt == 'S' || jobvt == 'A';
  if ((!want_u && jobu != 'N') || (!want_v && jobvt != 'N') || m < n || n < 0 || lda < std::max(1, m) ||
      (want_u && ldu < std::max(1, m)) || (want_v && ldvt < std::max(1, n)) || info == nullptr || S == nullptr)
    return CUSOLVER_STATUS_INVALID_VALUE;
  if (jobu == 'A' && m != n) {
    kDouble.Log("gesvd: jobu 'A' with m > n is not modelled by this double");
    return CUSOLVER_STATUS_NOT_SUPPORTED;
  }
  if (n > 0 && (work == nullptr || lwork < WorkElements(m))) return CUSOLVER_STATUS_INVALID_VALUE;
  if (WaitForStream(h) != CUSOLVER_STATUS_SUCCESS) return CUSOLVER_STATUS_EXECUTION_FAILED;
  std::vector<double> w(static_cast<size_t>(m) * n), v(static_cast<size_t>(n) * n, 0.0);
  auto w_at = [&](int i, int j) -> double& { return w[i + static_cast<size_t>(j) * m]; };
  auto v_at = [&](int i, int j) -> double& { return v[i + static_cast<size_t>(j) * n]; };
  for (int j = 0; j < n; ++j) {
    v_at(j, j) = 1;
    for (int i = 0; i < m; ++i) w_at(i, j) = At(A, lda, i, j);
  }
  bool converged = n < 2;
  for (int sweep = 0; sweep < 100 && !converged; ++sweep) {
    converged = true;
    for (int p = 0; p < n; ++p)
      for (int q = p + 1; q < n; ++q) {
        double alpha = 0, beta = 0, gamma = 0;
        for (int i = 0; i < m; ++i) {
          alpha += w_at(i, p) * w_at(i, p);
          beta += w_at(i, q) * w_at(i, q);
          gamma += w_at(i, p) * w_at(i, q);
        }
        if (std::fabs(gamma) <= 1e-15 * std::sqrt(alpha * beta) || gamma == 0) continue;
        converged = false;
        const double zeta = (beta - alpha) / (2 * gamma);
        const double t = std::copysign(1.0, zeta) / (std::fabs(zeta) + std::sqrt(1 + zeta * zeta));
        const double c = 1 / std::sqrt(1 + t * t), s = c * t;
        for (int i = 0; i < m; ++i) {
          const double a = w_at(i, p), b = w_at(i, q);
          w_at(i, p) = c * a - s * b;
          w_at(i, q) = s * a + c * b;
        }
        for (int i = 0; i < n; ++i) {
          const double a = v_at(i, p), b = v_at(i, q);
          v_at(i, p) = c * a - s * b;
          v_at(i, q) = s * a + c * b;
        }
      }
  }
  std::vector<double> sigma(n);
  for (int j = 0; j < n; ++j) {
    for (int i = 0; i < m; ++i) sigma[j] += w_at(i, j) * w_at(i, j);
    sigma[j] = std::sqrt(sigma[j]);
  }
  std::vector<int> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int x, int y) { return sigma[x] > sigma[y]; });
  for (int k = 0; k < n; ++k) {
    const int j = order[k];
    S[k] = static_cast<T>(sigma[j]);
    for (int i = 0; want_u && i < m; ++i) At(U, ldu, i, k) = static_cast<T>(sigma[j] > 0 ? w_at(i, j) / sigma[j] : 0.0);
    for (int i = 0; want_v && i < n; ++i) At(VT, ldvt, k, i) = static_cast<T>(v_at(i, j));
  }
  *info = converged ? 0 : n;  // > 0: superdiagonals that did not converge, as LAPACK
  return CUSOLVER_STATUS_SUCCESS;
}

}  // namespace

#define FAKE_GESVD(T, S)                                                                                           \
  FAKE_EXPORT cusolverStatus_t cusolverDn##S##gesvd_bufferSize(cusolverDnHandle_t h, int m, int n, int* lwork) {  \
    return Query(h, m, n, std::max(1, m), lwork);                                                                  \
  }                                                                                                                \
  FAKE_EXPORT cusolverStatus_t cusolverDn##S##gesvd(cusolverDnHandle_t h, signed char jobu, signed char jobvt,    \
                                                    int m, int n, T* A, int lda, T* Sv, T* U, int ldu, T* VT,      \
                                                    int ldvt, T* work, int lwork, T*, int* info) {                 \
    return Gesvd(h, jobu, jobvt, m, n, A, lda, Sv, U, ldu, VT, ldvt, work, lwork, info);                           \
  }

FAKE_GESVD(float, S)
FAKE_GESVD(double, D)

// ---- The 64-bit API's QR and symmetric eigensolver (R_32F, R_64F) ----------

FAKE_EXPORT cusolverStatus_t cusolverDnXgeqrf_bufferSize(cusolverDnHandle_t h, cusolverDnParams_t params, int64_t m,
                                                         int64_t n, cudaDataType type_a, const void*, int64_t lda,
                                                         cudaDataType type_tau, const void*, cudaDataType compute,
                                                         size_t* device, size_t* host) {
  if (type_tau != type_a) return CUSOLVER_STATUS_INVALID_VALUE;
  return XQuery(h, params, m, n, lda, type_a, compute, device, host);
}
FAKE_EXPORT cusolverStatus_t cusolverDnXgeqrf(cusolverDnHandle_t h, cusolverDnParams_t params, int64_t m, int64_t n,
                                              cudaDataType type_a, void* A, int64_t lda, cudaDataType type_tau,
                                              void* tau, cudaDataType compute, void* device, size_t device_bytes,
                                              void* host, size_t /*host_bytes*/, int* info) {
  if (h == nullptr) return CUSOLVER_STATUS_NOT_INITIALIZED;
  const size_t bytes = RealBytes(type_a, compute);
  if (params == nullptr || type_tau != type_a || !FitsInt(m) || !FitsInt(n) || !FitsInt(lda) || bytes == 0 ||
      !UseWorkspaces(n, device, host))
    return CUSOLVER_STATUS_INVALID_VALUE;
  const int lwork = static_cast<int>(std::min<size_t>(device_bytes / bytes, INT32_MAX));
  if (bytes == 4)
    return Geqrf(h, int(m), int(n), static_cast<float*>(A), int(lda), static_cast<float*>(tau),
                 static_cast<float*>(device), lwork, info);
  return Geqrf(h, int(m), int(n), static_cast<double*>(A), int(lda), static_cast<double*>(tau),
               static_cast<double*>(device), lwork, info);
}
FAKE_EXPORT cusolverStatus_t cusolverDnXsyevd_bufferSize(cusolverDnHandle_t h, cusolverDnParams_t params,
                                                         cusolverEigMode_t, cublasFillMode_t uplo, int64_t n,
                                                         cudaDataType type_a, const void*, int64_t lda,
                                                         cudaDataType type_w, const void*, cudaDataType compute,
                                                         size_t* device, size_t* host) {
  if (type_w != type_a || !ValidFill(uplo)) return CUSOLVER_STATUS_INVALID_VALUE;
  return XQuery(h, params, n, n, lda, type_a, compute, device, host);
}
FAKE_EXPORT cusolverStatus_t cusolverDnXsyevd(cusolverDnHandle_t h, cusolverDnParams_t params, cusolverEigMode_t jobz,
                                              cublasFillMode_t uplo, int64_t n, cudaDataType type_a, void* A,
                                              int64_t lda, cudaDataType type_w, void* W, cudaDataType compute,
                                              void* device, size_t device_bytes, void* host, size_t /*host_bytes*/,
                                              int* info) {
  if (h == nullptr) return CUSOLVER_STATUS_NOT_INITIALIZED;
  const size_t bytes = RealBytes(type_a, compute);
  if (params == nullptr || type_w != type_a || !FitsInt(n) || !FitsInt(lda) || bytes == 0 ||
      !UseWorkspaces(n, device, host))
    return CUSOLVER_STATUS_INVALID_VALUE;
  const int lwork = static_cast<int>(std::min<size_t>(device_bytes / bytes, INT32_MAX));
  if (bytes == 4)
    return Syevd(h, jobz, uplo, int(n), static_cast<float*>(A), int(lda), static_cast<float*>(W),
                 static_cast<float*>(device), lwork, info);
  return Syevd(h, jobz, uplo, int(n), static_cast<double*>(A), int(lda), static_cast<double*>(W),
               static_cast<double*>(device), lwork, info);
}
