// cublas_hermitian: an unmodified cuBLAS program with Hermitian matrices
// (linked with NVIDIA's libcublas.so.13; through rcuda it binds to rcuda's,
// client/libs/), in single and double complex precision: HEMV (lower), HEMM
// (left upper, right lower), HERK (lower, A; upper, A^H), HER2K (upper, A^H)
// and HER (lower), against a host reference in std::complex<double>. Each
// matrix's other triangle holds garbage and its diagonal imaginary parts, so
// that reading the wrong triangle or a diagonal's imaginary part shows; the
// rank updates must leave the other triangle as it was and write a real
// diagonal. Catches a real scalar carried as a complex one, or the reverse.
#include <cublas_v2.h>

#include <cmath>
#include <complex>
#include <vector>

#include "cublas_test.h"
#include "device_vectors.h"

namespace {

using rtest::Cu;
using rtest::Wide;
using rtest::Widen;

template <class C>
struct Blas;
template <>
struct Blas<std::complex<float>> {
  using Cu = cuComplex;
  using R = float;
  template <class... A> static cublasStatus_t Hemv(A... a) { return cublasChemv(a...); }
  template <class... A> static cublasStatus_t Hemm(A... a) { return cublasChemm(a...); }
  template <class... A> static cublasStatus_t Herk(A... a) { return cublasCherk(a...); }
  template <class... A> static cublasStatus_t Her2k(A... a) { return cublasCher2k(a...); }
  template <class... A> static cublasStatus_t Her(A... a) { return cublasCher(a...); }
};
template <>
struct Blas<std::complex<double>> {
  using Cu = cuDoubleComplex;
  using R = double;
  template <class... A> static cublasStatus_t Hemv(A... a) { return cublasZhemv(a...); }
  template <class... A> static cublasStatus_t Hemm(A... a) { return cublasZhemm(a...); }
  template <class... A> static cublasStatus_t Herk(A... a) { return cublasZherk(a...); }
  template <class... A> static cublasStatus_t Her2k(A... a) { return cublasZher2k(a...); }
  template <class... A> static cublasStatus_t Her(A... a) { return cublasZher(a...); }
};

// Element (i, j) of the Hermitian matrix whose `uplo` triangle m holds.
template <class C>
Wide Herm(const std::vector<C>& m, int ld, cublasFillMode_t uplo, int i, int j) {
  if (i == j) return Wide(m[i + 1ll * i * ld].real(), 0);
  const bool stored = uplo == CUBLAS_FILL_MODE_LOWER ? i > j : i < j;
  return stored ? Wide(m[i + 1ll * j * ld]) : std::conj(Wide(m[j + 1ll * i * ld]));
}

bool InTriangle(cublasFillMode_t uplo, int i, int j) { return uplo == CUBLAS_FILL_MODE_LOWER ? i >= j : i <= j; }

template <class C>
void Hemv(cublasHandle_t h, cudaStream_t stream, rtest::Rng& rng, rtest::Checksum& sum) {
  using B = Blas<C>;
  const int n = 7, lda = 9, incx = 2, incy = -1;
  std::vector<C> a = rtest::Random<C>(rng, lda * n), x = rtest::Random<C>(rng, 1 + (n - 1) * incx), y = rtest::Random<C>(rng, n);
  const C alpha(0.75, -0.5), beta(-1.25, 0.5);
  auto *da = rtest::ToDevice(a), *dx = rtest::ToDevice(x), *dy = rtest::ToDevice(y);
  CUBLAS_CHECK(B::Hemv(h, CUBLAS_FILL_MODE_LOWER, n, Cu(&alpha), Cu(da), lda, Cu(dx), incx, Cu(&beta), Cu(dy), incy));
  std::vector<Wide> want = Widen(y);
  for (int i = 0; i < n; ++i) {
    Wide acc = 0;
    for (int j = 0; j < n; ++j) acc += Herm(a, lda, CUBLAS_FILL_MODE_LOWER, i, j) * Wide(x[j * incx]);
    Wide& out = want[n - 1 - i];  // a negative increment walks y from its end
    out = Wide(alpha) * acc + Wide(beta) * out;
  }
  auto got = rtest::FromDevice(dy, n, stream);
  rtest::ExpectNear(got, want, "HEMV");
  sum.AddVector(got);
  CUDA_CHECK(cudaFree(da));
  CUDA_CHECK(cudaFree(dx));
  CUDA_CHECK(cudaFree(dy));
}

template <class C>
void Hemm(cublasHandle_t h, cudaStream_t stream, rtest::Rng& rng, rtest::Checksum& sum) {
  using B = Blas<C>;
  const int m = 5, n = 4, ldb = 6, ldc = 7;
  const C alpha(-0.5, 1.0), beta(0.25, -0.75);
  for (cublasSideMode_t side : {CUBLAS_SIDE_LEFT, CUBLAS_SIDE_RIGHT}) {
    const bool left = side == CUBLAS_SIDE_LEFT;
    const cublasFillMode_t uplo = left ? CUBLAS_FILL_MODE_UPPER : CUBLAS_FILL_MODE_LOWER;
    const int ka = left ? m : n, lda = ka + 1;
    std::vector<C> a = rtest::Random<C>(rng, lda * ka), b = rtest::Random<C>(rng, ldb * n), c = rtest::Random<C>(rng, ldc * n);
    auto *da = rtest::ToDevice(a), *db = rtest::ToDevice(b), *dc = rtest::ToDevice(c);
    CUBLAS_CHECK(B::Hemm(h, side, uplo, m, n, Cu(&alpha), Cu(da), lda, Cu(db), ldb, Cu(&beta), Cu(dc), ldc));
    std::vector<Wide> want = Widen(c);
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < m; ++i) {
        Wide acc = 0;
        for (int p = 0; p < ka; ++p) {
          acc += left ? Herm(a, lda, uplo, i, p) * Wide(b[p + 1ll * j * ldb])
                      : Wide(b[i + 1ll * p * ldb]) * Herm(a, lda, uplo, p, j);
        }
        Wide& out = want[i + 1ll * j * ldc];
        out = Wide(alpha) * acc + Wide(beta) * out;
      }
    auto got = rtest::FromDevice(dc, c.size(), stream);
    rtest::ExpectNear(got, want, left ? "HEMM (left, upper)" : "HEMM (right, lower)");
    sum.AddVector(got);
    CUDA_CHECK(cudaFree(da));
    CUDA_CHECK(cudaFree(db));
    CUDA_CHECK(cudaFree(dc));
  }
}

// HERK (lower with A n x k; upper with A^H, A k x n), HER2K (upper, A^H B +
// B^H A) and HER (lower): the triangle written, the other one as it was.
template <class C>
void RankUpdates(cublasHandle_t h, cudaStream_t stream, rtest::Rng& rng, rtest::Checksum& sum) {
  using B = Blas<C>;
  using R = typename B::R;
  const int n = 6, k = 4, ldc = 8;
  const R ralpha = R(0.75), rbeta = R(-0.5);
  const C calpha(0.5, -1.5);
  auto op = [](bool t, const std::vector<C>& x, int ld, int r, int p) {
    return t ? std::conj(Wide(x[p + 1ll * r * ld])) : Wide(x[r + 1ll * p * ld]);
  };
  // kind 0: HERK lower, N; 1: HERK upper, C; 2: HER2K upper, C.
  for (int kind = 0; kind < 3; ++kind) {
    const bool t = kind != 0;
    const cublasFillMode_t uplo = kind == 0 ? CUBLAS_FILL_MODE_LOWER : CUBLAS_FILL_MODE_UPPER;
    const cublasOperation_t trans = t ? CUBLAS_OP_C : CUBLAS_OP_N;
    const int lda = (t ? k : n) + 2;
    std::vector<C> a = rtest::Random<C>(rng, lda * (t ? n : k)), b = rtest::Random<C>(rng, lda * (t ? n : k)),
                   c = rtest::Random<C>(rng, ldc * n);
    auto *da = rtest::ToDevice(a), *db = rtest::ToDevice(b), *dc = rtest::ToDevice(c);
    if (kind < 2) {
      CUBLAS_CHECK(B::Herk(h, uplo, trans, n, k, &ralpha, Cu(da), lda, &rbeta, Cu(dc), ldc));
    } else {
      CUBLAS_CHECK(B::Her2k(h, uplo, trans, n, k, Cu(&calpha), Cu(da), lda, Cu(db), lda, &rbeta, Cu(dc), ldc));
    }
    std::vector<Wide> want = Widen(c);
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < n; ++i) {
        if (!InTriangle(uplo, i, j)) continue;
        Wide acc = 0;
        for (int p = 0; p < k; ++p) {
          acc += kind < 2 ? Wide(ralpha) * op(t, a, lda, i, p) * std::conj(op(t, a, lda, j, p))
                          : Wide(calpha) * op(t, a, lda, i, p) * std::conj(op(t, b, lda, j, p)) +
                                std::conj(Wide(calpha)) * op(t, b, lda, i, p) * std::conj(op(t, a, lda, j, p));
        }
        Wide& out = want[i + 1ll * j * ldc];
        const Wide old = i == j ? Wide(out.real(), 0) : out;
        out = acc + Wide(rbeta) * old;
        if (i == j) out = Wide(out.real(), 0);
      }
    auto got = rtest::FromDevice(dc, c.size(), stream);
    rtest::ExpectNear(got, want, kind == 0 ? "HERK (lower, N)" : kind == 1 ? "HERK (upper, C)" : "HER2K (upper, C)");
    sum.AddVector(got);
    CUDA_CHECK(cudaFree(da));
    CUDA_CHECK(cudaFree(db));
    CUDA_CHECK(cudaFree(dc));
  }
  // HER: A = alpha x x^H + A, lower.
  const int lda = n + 1, incx = 3;
  std::vector<C> a = rtest::Random<C>(rng, lda * n), x = rtest::Random<C>(rng, 1 + (n - 1) * incx);
  auto *da = rtest::ToDevice(a), *dx = rtest::ToDevice(x);
  CUBLAS_CHECK(B::Her(h, CUBLAS_FILL_MODE_LOWER, n, &ralpha, Cu(dx), incx, Cu(da), lda));
  std::vector<Wide> want = Widen(a);
  for (int j = 0; j < n; ++j)
    for (int i = j; i < n; ++i) {
      Wide& out = want[i + 1ll * j * lda];
      out = (i == j ? Wide(out.real(), 0) : out) + Wide(ralpha) * Wide(x[i * incx]) * std::conj(Wide(x[j * incx]));
      if (i == j) out = Wide(out.real(), 0);
    }
  auto got = rtest::FromDevice(da, a.size(), stream);
  rtest::ExpectNear(got, want, "HER (lower)");
  sum.AddVector(got);
  CUDA_CHECK(cudaFree(da));
  CUDA_CHECK(cudaFree(dx));
}

template <class C>
void All(cublasHandle_t h, cudaStream_t stream, rtest::Rng& rng, rtest::Checksum& sum) {
  Hemv<C>(h, stream, rng, sum);
  Hemm<C>(h, stream, rng, sum);
  RankUpdates<C>(h, stream, rng, sum);
}

}  // namespace

int main() {
  rtest::Rng rng = rtest::Init("cublas_hermitian");
  rtest::Checksum sum;
  {
    rtest::CublasOnStream blas;
    cublasHandle_t h = blas.handle();
    cudaStream_t stream = blas.stream();
    All<std::complex<float>>(h, stream, rng, sum);
    All<std::complex<double>>(h, stream, rng, sum);
  }
  return rtest::Pass(sum);
}
