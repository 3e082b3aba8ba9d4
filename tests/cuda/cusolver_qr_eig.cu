// cusolver_qr_eig: an unmodified cuSOLVER program's QR, symmetric
// eigensolver and SVD (linked with NVIDIA's libcusolver.so.12; through rcuda it
// binds to rcuda's, client/libs/), in single and double precision on a
// stream of the program's:
//   * QR (geqrf_bufferSize, geqrf) of a tall 40 x 24 matrix with a padded
//     leading dimension; ormqr_bufferSize and ormqr apply Q^T to three
//     right-hand sides, the least-squares solution is R^-1 (Q^T b) (on the
//     host, from the R geqrf left), checked by the normal equations
//     A^T (A x - b) = 0; ormqr with Q then Q^T from the right gives the
//     right-hand sides back;
//   * syevd_bufferSize and syevd of a random symmetric 20 x 20 matrix, from
//     each triangle: the eigenvalues ascending, summing to the trace, each
//     pair checked by ||A v - lambda v||, the vectors orthonormal; without
//     vectors the same eigenvalues;
//   * gesvd_bufferSize and gesvd of a 30 x 12 matrix with U and V^T ('S'):
//     U S V^T = A, U and V orthonormal, the values descending; without
//     vectors ('N') the same values.
// Eigenvectors are checked by what they must satisfy, not compared (a sign
// is the library's choice). devInfo is 0 throughout. The solutions and
// eigenvalues go in the checksum.
#include <cusolverDn.h>

#include <cmath>
#include <vector>

#include "device_vectors.h"
#include "library_session.h"
#include "test_util.h"

#define CUSOLVER_CHECK(call) RTEST_LIBRARY_CHECK("cuSOLVER", call)

namespace {

using rtest::FromDevice;
using rtest::ToDevice;

template <class T>
struct Dense;
template <>
struct Dense<float> {
  static constexpr auto geqrf_bufferSize = cusolverDnSgeqrf_bufferSize;
  static constexpr auto geqrf = cusolverDnSgeqrf;
  static constexpr auto ormqr_bufferSize = cusolverDnSormqr_bufferSize;
  static constexpr auto ormqr = cusolverDnSormqr;
  static constexpr auto syevd_bufferSize = cusolverDnSsyevd_bufferSize;
  static constexpr auto syevd = cusolverDnSsyevd;
  static constexpr auto gesvd_bufferSize = cusolverDnSgesvd_bufferSize;
  static constexpr auto gesvd = cusolverDnSgesvd;
  static constexpr double kTolerance = 2e-4;  // relative, float (eps 1.2e-7, n <= 40)
};
template <>
struct Dense<double> {
  static constexpr auto geqrf_bufferSize = cusolverDnDgeqrf_bufferSize;
  static constexpr auto geqrf = cusolverDnDgeqrf;
  static constexpr auto ormqr_bufferSize = cusolverDnDormqr_bufferSize;
  static constexpr auto ormqr = cusolverDnDormqr;
  static constexpr auto syevd_bufferSize = cusolverDnDsyevd_bufferSize;
  static constexpr auto syevd = cusolverDnDsyevd;
  static constexpr auto gesvd_bufferSize = cusolverDnDgesvd_bufferSize;
  static constexpr auto gesvd = cusolverDnDgesvd;
  static constexpr double kTolerance = 1e-11;
};

template <class T>
std::vector<T> Random(rtest::Rng& rng, size_t n) {
  std::vector<T> v(n);
  for (T& x : v) x = static_cast<T>(rng.Double(-1.0, 1.0));
  return v;
}

void ExpectInfoZero(const int* d_info, cudaStream_t stream, const char* what) {
  const int info = FromDevice(d_info, 1, stream)[0];
  CHECKF(info == 0, "%s: devInfo %d", what, info);
}

template <class T>
void LeastSquares(cusolverDnHandle_t h, cudaStream_t stream, rtest::Rng& rng, rtest::Checksum& sum) {
  using D = Dense<T>;
  const int m = 40, n = 24, lda = 43, nrhs = 3, ldb = 41;
  std::vector<T> a = Random<T>(rng, size_t(lda) * n), b = Random<T>(rng, size_t(ldb) * nrhs);
  for (int j = 0; j < n; ++j) a[j + size_t(j) * lda] += static_cast<T>(3);  // well conditioned
  T *da = ToDevice(a), *db = ToDevice(b), *dtau = nullptr, *work = nullptr;
  int* dinfo = nullptr;
  CUDA_CHECK(cudaMalloc(&dtau, n * sizeof(T)));
  CUDA_CHECK(cudaMalloc(&dinfo, sizeof(int)));
  int lwork_qr = 0, lwork_q = 0, lwork_qt = 0;
  CUSOLVER_CHECK(D::geqrf_bufferSize(h, m, n, da, lda, &lwork_qr));
  CUSOLVER_CHECK(D::ormqr_bufferSize(h, CUBLAS_SIDE_LEFT, CUBLAS_OP_T, m, nrhs, n, da, lda, dtau, db, ldb, &lwork_qt));
  CUSOLVER_CHECK(D::ormqr_bufferSize(h, CUBLAS_SIDE_RIGHT, CUBLAS_OP_N, nrhs, m, n, da, lda, dtau, db, nrhs,
                                     &lwork_q));
  const int lwork = std::max({lwork_qr, lwork_q, lwork_qt, 1});
  CUDA_CHECK(cudaMalloc(&work, size_t(lwork) * sizeof(T)));
  CUSOLVER_CHECK(D::geqrf(h, m, n, da, lda, dtau, work, lwork, dinfo));
  ExpectInfoZero(dinfo, stream, "geqrf");
  CUSOLVER_CHECK(D::ormqr(h, CUBLAS_SIDE_LEFT, CUBLAS_OP_T, m, nrhs, n, da, lda, dtau, db, ldb, work, lwork, dinfo));
  ExpectInfoZero(dinfo, stream, "ormqr (Q^T b)");
  // x = R^-1 (Q^T b)[0:n], back substitution on the host.
  const std::vector<T> qr = FromDevice(da, a.size(), stream), qtb = FromDevice(db, b.size(), stream);
  std::vector<double> x(size_t(n) * nrhs);
  for (int r = 0; r < nrhs; ++r)
    for (int i = n - 1; i >= 0; --i) {
      double acc = qtb[i + size_t(r) * ldb];
      for (int j = i + 1; j < n; ++j) acc -= double(qr[i + size_t(j) * lda]) * x[j + size_t(r) * n];
      x[i + size_t(r) * n] = acc / qr[i + size_t(i) * lda];
    }
  // The normal equations: A^T (A x - b) is zero, relative to ||A||^2 ||x||.
  double a_norm2 = 0, x_norm = 0;
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < m; ++i) a_norm2 += double(a[i + size_t(j) * lda]) * a[i + size_t(j) * lda];
  for (double v : x) x_norm += v * v;
  x_norm = std::sqrt(x_norm);
  for (int r = 0; r < nrhs; ++r) {
    std::vector<double> residual(m);
    for (int i = 0; i < m; ++i) {
      double acc = -double(b[i + size_t(r) * ldb]);
      for (int j = 0; j < n; ++j) acc += double(a[i + size_t(j) * lda]) * x[j + size_t(r) * n];
      residual[i] = acc;
    }
    for (int j = 0; j < n; ++j) {
      double g = 0;
      for (int i = 0; i < m; ++i) g += double(a[i + size_t(j) * lda]) * residual[i];
      CHECKF(std::fabs(g) <= D::kTolerance * a_norm2 * (1 + x_norm), "least squares (%zu-byte): gradient %d of rhs %d is %g",
             sizeof(T), j, r, g);
    }
  }
  for (double v : x) sum.AddValue(static_cast<T>(v));
  // From the right: (b^T Q) Q^T = b^T, on the transposed right-hand sides.
  std::vector<T> bt(size_t(nrhs) * m);
  for (int r = 0; r < nrhs; ++r)
    for (int i = 0; i < m; ++i) bt[r + size_t(i) * nrhs] = b[i + size_t(r) * ldb];
  T* dbt = ToDevice(bt);
  CUSOLVER_CHECK(D::ormqr(h, CUBLAS_SIDE_RIGHT, CUBLAS_OP_N, nrhs, m, n, da, lda, dtau, dbt, nrhs, work, lwork, dinfo));
  CUSOLVER_CHECK(D::ormqr(h, CUBLAS_SIDE_RIGHT, CUBLAS_OP_T, nrhs, m, n, da, lda, dtau, dbt, nrhs, work, lwork, dinfo));
  ExpectInfoZero(dinfo, stream, "ormqr (from the right)");
  const std::vector<T> back = FromDevice(dbt, bt.size(), stream);
  for (size_t e = 0; e < bt.size(); ++e)
    CHECKF(std::fabs(double(back[e]) - bt[e]) <= D::kTolerance * 10, "b^T Q Q^T (%zu-byte): element %zu is %g, not %g",
           sizeof(T), e, double(back[e]), double(bt[e]));
  for (T* p : {da, db, dtau, work, dbt}) CUDA_CHECK(cudaFree(p));
  CUDA_CHECK(cudaFree(dinfo));
}

template <class T>
void Eigen(cusolverDnHandle_t h, cudaStream_t stream, rtest::Rng& rng, rtest::Checksum& sum) {
  using D = Dense<T>;
  const int n = 20, lda = 22;
  std::vector<T> a = Random<T>(rng, size_t(lda) * n);
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < j; ++i) a[i + size_t(j) * lda] = a[j + size_t(i) * lda];  // symmetric
  double trace = 0, a_norm = 0;
  for (int j = 0; j < n; ++j) {
    trace += a[j + size_t(j) * lda];
    for (int i = 0; i < n; ++i) a_norm += double(a[i + size_t(j) * lda]) * a[i + size_t(j) * lda];
  }
  a_norm = std::sqrt(a_norm);
  std::vector<T> first_values;
  for (cublasFillMode_t uplo : {CUBLAS_FILL_MODE_LOWER, CUBLAS_FILL_MODE_UPPER}) {
    // The other triangle holds garbage: the library must not read it.
    std::vector<T> input = a;
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < n; ++i)
        if (uplo == CUBLAS_FILL_MODE_LOWER ? i < j : i > j) input[i + size_t(j) * lda] = static_cast<T>(1e3);
    for (cusolverEigMode_t jobz : {CUSOLVER_EIG_MODE_VECTOR, CUSOLVER_EIG_MODE_NOVECTOR}) {
      T *da = ToDevice(input), *dw = nullptr, *work = nullptr;
      int* dinfo = nullptr;
      CUDA_CHECK(cudaMalloc(&dw, n * sizeof(T)));
      CUDA_CHECK(cudaMalloc(&dinfo, sizeof(int)));
      int lwork = 0;
      CUSOLVER_CHECK(D::syevd_bufferSize(h, jobz, uplo, n, da, lda, dw, &lwork));
      CUDA_CHECK(cudaMalloc(&work, size_t(std::max(lwork, 1)) * sizeof(T)));
      CUSOLVER_CHECK(D::syevd(h, jobz, uplo, n, da, lda, dw, work, lwork, dinfo));
      ExpectInfoZero(dinfo, stream, "syevd");
      const std::vector<T> w = FromDevice(dw, n, stream), v = FromDevice(da, input.size(), stream);
      double total = 0;
      for (int j = 0; j < n; ++j) {
        total += w[j];
        if (j > 0) CHECKF(w[j - 1] <= w[j], "syevd: eigenvalues not ascending at %d", j);
      }
      CHECKF(std::fabs(total - trace) <= D::kTolerance * (1 + std::fabs(trace)) * n, "syevd: eigenvalues sum to %g, trace %g",
             total, trace);
      if (first_values.empty()) first_values = w;
      for (int j = 0; j < n; ++j)
        CHECKF(std::fabs(double(w[j]) - first_values[j]) <= D::kTolerance * a_norm,
               "syevd (%zu-byte): eigenvalue %d is %g here, %g the first time", sizeof(T), j, double(w[j]),
               double(first_values[j]));
      if (jobz == CUSOLVER_EIG_MODE_VECTOR) {
        for (int j = 0; j < n; ++j) {
          double residual = 0;
          for (int i = 0; i < n; ++i) {
            double av = 0;
            for (int k = 0; k < n; ++k) av += double(a[i + size_t(k) * lda]) * v[k + size_t(j) * lda];
            residual += std::pow(av - double(w[j]) * v[i + size_t(j) * lda], 2);
          }
          CHECKF(std::sqrt(residual) <= D::kTolerance * a_norm, "syevd (%zu-byte): ||A v - lambda v|| = %g for %d",
                 sizeof(T), std::sqrt(residual), j);
          for (int k = 0; k <= j; ++k) {
            double dot = 0;
            for (int i = 0; i < n; ++i) dot += double(v[i + size_t(j) * lda]) * v[i + size_t(k) * lda];
            CHECKF(std::fabs(dot - (j == k ? 1.0 : 0.0)) <= D::kTolerance * 10, "syevd: v%d . v%d = %g", j, k, dot);
          }
        }
      }
      sum.AddVector(w);
      for (T* p : {da, dw, work}) CUDA_CHECK(cudaFree(p));
      CUDA_CHECK(cudaFree(dinfo));
    }
  }
}

// gesvd of a 30 x 12 matrix (lda 33): with U and V^T ('S'), A = U S V^T,
// U^T U = I, V^T V = I, the values descending and non-negative; without
// them ('N') the same values.
template <class T>
void Svd(cusolverDnHandle_t h, cudaStream_t stream, rtest::Rng& rng, rtest::Checksum& sum) {
  using D = Dense<T>;
  const int m = 30, n = 12, lda = 33, ldu = 31, ldvt = 13;
  const std::vector<T> a = Random<T>(rng, size_t(lda) * n);
  double a_norm = 0;
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < m; ++i) a_norm += double(a[i + size_t(j) * lda]) * a[i + size_t(j) * lda];
  a_norm = std::sqrt(a_norm);
  int lwork = 0;
  CUSOLVER_CHECK(D::gesvd_bufferSize(h, m, n, &lwork));
  T *work = nullptr, *ds = nullptr, *du = nullptr, *dvt = nullptr, *rwork = nullptr;
  int* dinfo = nullptr;
  CUDA_CHECK(cudaMalloc(&work, size_t(std::max(lwork, 1)) * sizeof(T)));
  CUDA_CHECK(cudaMalloc(&ds, n * sizeof(T)));
  CUDA_CHECK(cudaMalloc(&du, size_t(ldu) * n * sizeof(T)));
  CUDA_CHECK(cudaMalloc(&dvt, size_t(ldvt) * n * sizeof(T)));
  CUDA_CHECK(cudaMalloc(&rwork, (n - 1) * sizeof(T)));
  CUDA_CHECK(cudaMalloc(&dinfo, sizeof(int)));
  std::vector<T> first;
  for (signed char job : {'S', 'N'}) {
    T* da = ToDevice(a);  // gesvd overwrites A
    CUSOLVER_CHECK(D::gesvd(h, job, job, m, n, da, lda, ds, job == 'N' ? nullptr : du, ldu,
                            job == 'N' ? nullptr : dvt, ldvt, work, lwork, rwork, dinfo));
    ExpectInfoZero(dinfo, stream, "gesvd");
    const std::vector<T> sv = FromDevice(ds, n, stream);
    for (int k = 0; k < n; ++k) {
      CHECKF(sv[k] >= 0 && (k == 0 || sv[k - 1] >= sv[k]), "gesvd (%zu-byte): singular value %d is %g after %g",
             sizeof(T), k, double(sv[k]), k ? double(sv[k - 1]) : 0.0);
      if (!first.empty())
        CHECKF(std::fabs(double(sv[k]) - first[k]) <= D::kTolerance * a_norm, "gesvd: value %d is %g without vectors, %g with",
               k, double(sv[k]), double(first[k]));
    }
    if (job == 'S') {
      first = sv;
      const std::vector<T> u = FromDevice(du, size_t(ldu) * n, stream), vt = FromDevice(dvt, size_t(ldvt) * n, stream);
      double worst = 0;
      for (int j = 0; j < n; ++j)
        for (int i = 0; i < m; ++i) {
          double acc = 0;
          for (int k = 0; k < n; ++k) acc += double(u[i + size_t(k) * ldu]) * sv[k] * vt[k + size_t(j) * ldvt];
          worst = std::max(worst, std::fabs(acc - double(a[i + size_t(j) * lda])));
        }
      CHECKF(worst <= D::kTolerance * a_norm, "gesvd (%zu-byte): |U S V^T - A| reaches %g", sizeof(T), worst);
      for (int p = 0; p < n; ++p)
        for (int q = 0; q <= p; ++q) {
          double uu = 0, vv = 0;
          for (int i = 0; i < m; ++i) uu += double(u[i + size_t(p) * ldu]) * u[i + size_t(q) * ldu];
          for (int i = 0; i < n; ++i) vv += double(vt[p + size_t(i) * ldvt]) * vt[q + size_t(i) * ldvt];
          const double want = p == q ? 1.0 : 0.0;
          CHECKF(std::fabs(uu - want) <= D::kTolerance * 10 && std::fabs(vv - want) <= D::kTolerance * 10,
                 "gesvd (%zu-byte): u%d.u%d = %g, v%d.v%d = %g", sizeof(T), p, q, uu, p, q, vv);
        }
    }
    sum.AddVector(sv);
    CUDA_CHECK(cudaFree(da));
  }
  for (T* p : {work, ds, du, dvt, rwork}) CUDA_CHECK(cudaFree(p));
  CUDA_CHECK(cudaFree(dinfo));
}

}  // namespace

int main() {
  rtest::Rng rng = rtest::Init("cusolver_qr_eig");
  rtest::Checksum sum;
  cudaStream_t stream = nullptr;
  CUDA_CHECK(cudaStreamCreate(&stream));
  cusolverDnHandle_t h = nullptr;
  CUSOLVER_CHECK(cusolverDnCreate(&h));
  CUSOLVER_CHECK(cusolverDnSetStream(h, stream));
  LeastSquares<float>(h, stream, rng, sum);
  LeastSquares<double>(h, stream, rng, sum);
  Eigen<float>(h, stream, rng, sum);
  Eigen<double>(h, stream, rng, sum);
  Svd<float>(h, stream, rng, sum);
  Svd<double>(h, stream, rng, sum);
  CUSOLVER_CHECK(cusolverDnDestroy(h));
  CUDA_CHECK(cudaStreamDestroy(stream));
  return rtest::Pass(sum);
}
