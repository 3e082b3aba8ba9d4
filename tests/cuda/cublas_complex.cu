// cublas_complex: an unmodified cuBLAS program in complex arithmetic
// (linked with NVIDIA's libcublas.so.13; through rcuda it binds to rcuda's,
// client/libs/): in single (cuComplex) and double (cuDoubleComplex)
// precision, GEMM with op(A) conjugate-transposed and op(B) transposed,
// strided batched GEMM, GEMV (plain and conjugate-transposed), GEAM, AXPY,
// SCAL with complex and real scalars, DOTC and DOTU (host and device
// results), NRM2 and COPY, against a host reference in std::complex<double>.
// Catches a complex scalar carried as a real one (half its bytes), a
// conjugation lost, a result of the wrong width.
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

// The precision's types and functions: Cu is the cuBLAS type, C the
// std::complex it is laid out as, R its real part.
template <class C>
struct Blas;
template <>
struct Blas<std::complex<float>> {
  using Cu = cuComplex;
  using R = float;
  template <class... A> static cublasStatus_t Gemm(A... a) { return cublasCgemm(a...); }
  template <class... A> static cublasStatus_t GemmStrided(A... a) { return cublasCgemmStridedBatched(a...); }
  template <class... A> static cublasStatus_t Gemv(A... a) { return cublasCgemv(a...); }
  template <class... A> static cublasStatus_t Geam(A... a) { return cublasCgeam(a...); }
  template <class... A> static cublasStatus_t Axpy(A... a) { return cublasCaxpy(a...); }
  template <class... A> static cublasStatus_t Scal(A... a) { return cublasCscal(a...); }
  template <class... A> static cublasStatus_t RealScal(A... a) { return cublasCsscal(a...); }
  template <class... A> static cublasStatus_t Dotc(A... a) { return cublasCdotc(a...); }
  template <class... A> static cublasStatus_t Dotu(A... a) { return cublasCdotu(a...); }
  template <class... A> static cublasStatus_t Nrm2(A... a) { return cublasScnrm2(a...); }
  template <class... A> static cublasStatus_t Copy(A... a) { return cublasCcopy(a...); }
  template <class... A> static cublasStatus_t Swap(A... a) { return cublasCswap(a...); }
  template <class... A> static cublasStatus_t Asum(A... a) { return cublasScasum(a...); }
  template <class... A> static cublasStatus_t Iamax(A... a) { return cublasIcamax(a...); }
  template <class... A> static cublasStatus_t Iamin(A... a) { return cublasIcamin(a...); }
  template <class... A> static cublasStatus_t RealRot(A... a) { return cublasCsrot(a...); }
  template <class... A> static cublasStatus_t Rot(A... a) { return cublasCrot(a...); }
};
template <>
struct Blas<std::complex<double>> {
  using Cu = cuDoubleComplex;
  using R = double;
  template <class... A> static cublasStatus_t Gemm(A... a) { return cublasZgemm(a...); }
  template <class... A> static cublasStatus_t GemmStrided(A... a) { return cublasZgemmStridedBatched(a...); }
  template <class... A> static cublasStatus_t Gemv(A... a) { return cublasZgemv(a...); }
  template <class... A> static cublasStatus_t Geam(A... a) { return cublasZgeam(a...); }
  template <class... A> static cublasStatus_t Axpy(A... a) { return cublasZaxpy(a...); }
  template <class... A> static cublasStatus_t Scal(A... a) { return cublasZscal(a...); }
  template <class... A> static cublasStatus_t RealScal(A... a) { return cublasZdscal(a...); }
  template <class... A> static cublasStatus_t Dotc(A... a) { return cublasZdotc(a...); }
  template <class... A> static cublasStatus_t Dotu(A... a) { return cublasZdotu(a...); }
  template <class... A> static cublasStatus_t Nrm2(A... a) { return cublasDznrm2(a...); }
  template <class... A> static cublasStatus_t Copy(A... a) { return cublasZcopy(a...); }
  template <class... A> static cublasStatus_t Swap(A... a) { return cublasZswap(a...); }
  template <class... A> static cublasStatus_t Asum(A... a) { return cublasDzasum(a...); }
  template <class... A> static cublasStatus_t Iamax(A... a) { return cublasIzamax(a...); }
  template <class... A> static cublasStatus_t Iamin(A... a) { return cublasIzamin(a...); }
  template <class... A> static cublasStatus_t RealRot(A... a) { return cublasZdrot(a...); }
  template <class... A> static cublasStatus_t Rot(A... a) { return cublasZrot(a...); }
};

// Device copies typed as cuBLAS's complex, and reads of them back.
template <class C>
typename rtest::CuComplexOf<C>::type* ToDevice(const std::vector<C>& host) {
  return rtest::Cu(rtest::ToDevice(host));
}
template <class C>
std::vector<C> FromDevice(cudaStream_t stream, const void* d, size_t n) {
  return rtest::FromDevice(static_cast<const C*>(d), n, stream);
}

template <class C>
Wide Op(cublasOperation_t op, const std::vector<C>& m, int ld, int r, int c) {
  if (op == CUBLAS_OP_N) return m[r + 1ll * c * ld];
  const Wide v = m[c + 1ll * r * ld];
  return op == CUBLAS_OP_C ? std::conj(v) : v;
}

template <class C>
void Gemms(cublasHandle_t h, cudaStream_t stream, rtest::Rng& rng, rtest::Checksum& sum) {
  using B = Blas<C>;
  // C = alpha A^H B^T + beta C; A k x m (lda 6), B n x k (ldb 5), C m x n.
  const int m = 4, n = 5, k = 3, lda = 6, ldb = 5, ldc = 4, batch = 3;
  const long long sa = lda * m + 2, sb = ldb * k + 1, sc = ldc * n + 3;
  std::vector<C> a = rtest::Random<C>(rng, sa * batch), b = rtest::Random<C>(rng, sb * batch), c = rtest::Random<C>(rng, sc * batch);
  const C alpha(0.5, -1.25), beta(-0.75, 0.25);
  auto *da = ToDevice(a), *db = ToDevice(b), *dc = ToDevice(c);
  CUBLAS_CHECK(B::Gemm(h, CUBLAS_OP_C, CUBLAS_OP_T, m, n, k, Cu(&alpha), da, lda, db, ldb, Cu(&beta), dc, ldc));
  std::vector<Wide> want = Widen(c);
  auto gemm = [&](int q) {
    std::vector<C> aq(a.begin() + sa * q, a.end()), bq(b.begin() + sb * q, b.end());
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < m; ++i) {
        Wide acc = 0;
        for (int p = 0; p < k; ++p) acc += Op(CUBLAS_OP_C, aq, lda, i, p) * Op(CUBLAS_OP_T, bq, ldb, p, j);
        Wide& out = want[sc * q + i + 1ll * j * ldc];
        out = Wide(alpha) * acc + Wide(beta) * out;
      }
  };
  gemm(0);
  rtest::ExpectNear(FromDevice<C>(stream, dc, c.size()), want, "?gemm");
  // The same on every batch, strided (the first batch a second time).
  CUBLAS_CHECK(B::GemmStrided(h, CUBLAS_OP_C, CUBLAS_OP_T, m, n, k, Cu(&alpha), da, lda, sa, db, ldb, sb, Cu(&beta),
                              dc, ldc, sc, batch));
  for (int q = 0; q < batch; ++q) gemm(q);
  std::vector<C> got = FromDevice<C>(stream, dc, c.size());
  rtest::ExpectNear(got, want, "?gemmStridedBatched");
  sum.AddVector(got);
  CUDA_CHECK(cudaFree(da));
  CUDA_CHECK(cudaFree(db));
  CUDA_CHECK(cudaFree(dc));
}

template <class C>
void Level2(cublasHandle_t h, cudaStream_t stream, rtest::Rng& rng, rtest::Checksum& sum) {
  using B = Blas<C>;
  const int m = 7, n = 5, lda = 9;
  const C alpha(1.5, 0.5), beta(0.25, -1.0);
  std::vector<C> a = rtest::Random<C>(rng, size_t(lda) * n), b = rtest::Random<C>(rng, size_t(lda) * n);
  for (cublasOperation_t op : {CUBLAS_OP_N, CUBLAS_OP_C}) {
    const int rows = op == CUBLAS_OP_N ? m : n, cols = op == CUBLAS_OP_N ? n : m;
    std::vector<C> x = rtest::Random<C>(rng, 2 * cols), y = rtest::Random<C>(rng, rows);
    auto *da = ToDevice(a), *dx = ToDevice(x), *dy = ToDevice(y);
    CUBLAS_CHECK(B::Gemv(h, op, m, n, Cu(&alpha), da, lda, dx, -2, Cu(&beta), dy, 1));
    std::vector<Wide> want = Widen(y);
    for (int i = 0; i < rows; ++i) {
      Wide acc = 0;
      for (int j = 0; j < cols; ++j) acc += Op(op, a, lda, i, j) * Wide(x[2 * (cols - 1 - j)]);
      want[i] = Wide(alpha) * acc + Wide(beta) * want[i];
    }
    rtest::ExpectNear(FromDevice<C>(stream, dy, y.size()), want, "?gemv");
    CUDA_CHECK(cudaFree(da));
    CUDA_CHECK(cudaFree(dx));
    CUDA_CHECK(cudaFree(dy));
  }
  // GEAM: C = alpha A + beta B^H, A m x n, B n x m.
  std::vector<C> bt = rtest::Random<C>(rng, size_t(lda) * m);
  auto *da = ToDevice(a), *db = ToDevice(bt);
  typename B::Cu* dc = nullptr;
  CUDA_CHECK(cudaMalloc(&dc, size_t(lda) * n * sizeof(C)));
  CUDA_CHECK(cudaMemset(dc, 0, size_t(lda) * n * sizeof(C)));
  CUBLAS_CHECK(B::Geam(h, CUBLAS_OP_N, CUBLAS_OP_C, m, n, Cu(&alpha), da, lda, Cu(&beta), db, lda, dc, lda));
  std::vector<Wide> want(size_t(lda) * n, Wide(0));
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < m; ++i)
      want[i + 1ll * j * lda] = Wide(alpha) * Op(CUBLAS_OP_N, a, lda, i, j) + Wide(beta) * Op(CUBLAS_OP_C, bt, lda, i, j);
  std::vector<C> got = FromDevice<C>(stream, dc, want.size());
  rtest::ExpectNear(got, want, "?geam");
  sum.AddVector(got);
  CUDA_CHECK(cudaFree(da));
  CUDA_CHECK(cudaFree(db));
  CUDA_CHECK(cudaFree(dc));
}

template <class C>
void Level1(cublasHandle_t h, cudaStream_t stream, rtest::Rng& rng, rtest::Checksum& sum) {
  using B = Blas<C>;
  const int n = 23;
  std::vector<C> x = rtest::Random<C>(rng, 3 * n), y = rtest::Random<C>(rng, n);
  auto *dx = ToDevice(x), *dy = ToDevice(y);
  const C alpha(-0.5, 2.0);
  // y += alpha x (x every 3rd).
  CUBLAS_CHECK(B::Axpy(h, n, Cu(&alpha), dx, 3, dy, 1));
  std::vector<Wide> wy = Widen(y);
  for (int i = 0; i < n; ++i) wy[i] += Wide(alpha) * Wide(x[3 * i]);
  rtest::ExpectNear(FromDevice<C>(stream, dy, y.size()), wy, "?axpy");
  // Dot products, host results, then device results.
  Wide dotc = 0, dotu = 0;
  for (int i = 0; i < n; ++i) {
    dotc += std::conj(Wide(x[3 * i])) * wy[i];
    dotu += Wide(x[3 * i]) * wy[i];
  }
  C rc, ru;
  CUBLAS_CHECK(B::Dotc(h, n, dx, 3, dy, 1, Cu(&rc)));
  CUBLAS_CHECK(B::Dotu(h, n, dx, 3, dy, 1, Cu(&ru)));
  rtest::ExpectNear(std::vector<C>{rc, ru}, {dotc, dotu}, "?dotc/?dotu (host results)");
  typename B::Cu* dr = nullptr;
  CUDA_CHECK(cudaMalloc(&dr, 2 * sizeof(C)));
  CUBLAS_CHECK(cublasSetPointerMode(h, CUBLAS_POINTER_MODE_DEVICE));
  CUBLAS_CHECK(B::Dotc(h, n, dx, 3, dy, 1, dr));
  CUBLAS_CHECK(B::Dotu(h, n, dx, 3, dy, 1, dr + 1));
  CUBLAS_CHECK(cublasSetPointerMode(h, CUBLAS_POINTER_MODE_HOST));
  rtest::ExpectNear(FromDevice<C>(stream, dr, 2), {dotc, dotu}, "?dotc/?dotu (device results)");
  // nrm2 of y.
  typename B::R norm = 0;
  CUBLAS_CHECK(B::Nrm2(h, n, dy, 1, &norm));
  double want_norm = 0;
  for (const Wide& v : wy) want_norm += std::norm(v);
  rtest::ExpectNear(std::vector<C>{C(norm, 0)}, {Wide(std::sqrt(want_norm), 0)}, "?nrm2");
  // scal by a complex, then by a real scalar.
  const C s(0.5, 0.5);
  const typename B::R r = 3;
  CUBLAS_CHECK(B::Scal(h, n, Cu(&s), dy, 1));
  CUBLAS_CHECK(B::RealScal(h, n, &r, dy, 1));
  for (Wide& v : wy) v *= Wide(s) * double(r);
  rtest::ExpectNear(FromDevice<C>(stream, dy, y.size()), wy, "?scal, ?{s,d}scal");
  // copy y into every 3rd element of x.
  CUBLAS_CHECK(B::Copy(h, n, dy, 1, dx, 3));
  std::vector<Wide> wx = Widen(x);
  for (int i = 0; i < n; ++i) wx[3 * i] = wy[i];
  std::vector<C> got = FromDevice<C>(stream, dx, x.size());
  rtest::ExpectNear(got, wx, "?copy");
  sum.AddVector(got);
  CUDA_CHECK(cudaFree(dx));
  CUDA_CHECK(cudaFree(dy));
  CUDA_CHECK(cudaFree(dr));
}

// |re| + |im|, what cuBLAS's complex ASUM, I?AMAX and I?AMIN measure.
double Magnitude(const Wide& v) { return std::fabs(v.real()) + std::fabs(v.imag()); }

// SWAP, ASUM, I?AMAX and I?AMIN (host results), ROT with a real sine
// (CSROT, ZDROT) and a complex one.
template <class C>
void MoreLevel1(cublasHandle_t h, cudaStream_t stream, rtest::Rng& rng, rtest::Checksum& sum) {
  using B = Blas<C>;
  const int n = 17, incx = 2, incy = -1;
  std::vector<C> x = rtest::Random<C>(rng, 1 + (n - 1) * incx), y = rtest::Random<C>(rng, n);
  auto *dx = ToDevice(x), *dy = ToDevice(y);
  auto xi = [&](const std::vector<Wide>& v, int i) -> Wide { return v[rtest::StridedIndex(i, n, incx)]; };
  auto yi = [&](const std::vector<Wide>& v, int i) -> Wide { return v[rtest::StridedIndex(i, n, incy)]; };
  std::vector<Wide> wx = Widen(x), wy = Widen(y);
  // SWAP: x (every 2nd) <-> y (backwards).
  CUBLAS_CHECK(B::Swap(h, n, dx, incx, dy, incy));
  for (int i = 0; i < n; ++i) std::swap(wx[rtest::StridedIndex(i, n, incx)], wy[rtest::StridedIndex(i, n, incy)]);
  rtest::ExpectNear(FromDevice<C>(stream, dx, x.size()), wx, "?swap (x)");
  rtest::ExpectNear(FromDevice<C>(stream, dy, y.size()), wy, "?swap (y)");
  // ASUM, I?AMAX, I?AMIN of x (positive increment: cuBLAS answers 0 otherwise).
  typename B::R asum = 0;
  int imax = -1, imin = -1;
  CUBLAS_CHECK(B::Asum(h, n, dx, incx, &asum));
  CUBLAS_CHECK(B::Iamax(h, n, dx, incx, &imax));
  CUBLAS_CHECK(B::Iamin(h, n, dx, incx, &imin));
  double want_asum = 0;
  int want_max = 1, want_min = 1;
  for (int i = 0; i < n; ++i) {
    const double v = Magnitude(xi(wx, i));
    want_asum += v;
    if (v > Magnitude(xi(wx, want_max - 1))) want_max = i + 1;
    if (v < Magnitude(xi(wx, want_min - 1))) want_min = i + 1;
  }
  rtest::ExpectNear(std::vector<C>{C(asum, 0)}, {Wide(want_asum, 0)}, "?asum");
  CHECKF(imax == want_max && imin == want_min, "I?amax %d (expected %d), I?amin %d (expected %d)", imax, want_max,
         imin, want_min);
  sum.AddValue(imax * 100 + imin);
  // ROT: x = c x + s y, y = -conj(s) x + c y; real s, then complex s.
  const typename B::R c = 0.6, real_s = 0.8;
  const C s(0.48, -0.64);
  for (bool complex_sine : {false, true}) {
    if (complex_sine) CUBLAS_CHECK(B::Rot(h, n, dx, incx, dy, incy, &c, Cu(&s)));
    else CUBLAS_CHECK(B::RealRot(h, n, dx, incx, dy, incy, &c, &real_s));
    const Wide ws = complex_sine ? Wide(s) : Wide(real_s, 0);
    for (int i = 0; i < n; ++i) {
      const Wide a = xi(wx, i), b = yi(wy, i);
      wx[rtest::StridedIndex(i, n, incx)] = double(c) * a + ws * b;
      wy[rtest::StridedIndex(i, n, incy)] = -std::conj(ws) * a + double(c) * b;
    }
    const char* what = complex_sine ? "?rot (complex sine)" : "?{cs,zd}rot (real sine)";
    std::vector<C> gx = FromDevice<C>(stream, dx, x.size()), gy = FromDevice<C>(stream, dy, y.size());
    rtest::ExpectNear(gx, wx, what);
    rtest::ExpectNear(gy, wy, what);
    sum.AddVector(gx);
    sum.AddVector(gy);
  }
  CUDA_CHECK(cudaFree(dx));
  CUDA_CHECK(cudaFree(dy));
}

}  // namespace

int main() {
  rtest::Rng rng = rtest::Init("cublas_complex");
  rtest::Checksum sum;
  {
    rtest::CublasOnStream blas;
    cublasHandle_t h = blas.handle();
    cudaStream_t stream = blas.stream();
    Gemms<std::complex<float>>(h, stream, rng, sum);
    Gemms<std::complex<double>>(h, stream, rng, sum);
    Level2<std::complex<float>>(h, stream, rng, sum);
    Level2<std::complex<double>>(h, stream, rng, sum);
    Level1<std::complex<float>>(h, stream, rng, sum);
    Level1<std::complex<double>>(h, stream, rng, sum);
    MoreLevel1<std::complex<float>>(h, stream, rng, sum);
    MoreLevel1<std::complex<double>>(h, stream, rng, sum);
  }
  return rtest::Pass(sum);
}
