// cublas_band: an unmodified cuBLAS program with band, packed and triangular
// matrices (linked with NVIDIA's libcublas.so.13; through rcuda it binds to
// rcuda's, client/libs/), in S, D, C and Z: GBMV (every op), SBMV / HBMV
// (upper), TBMV (lower, op T or C) and TBSV (upper, unit diagonal); SPR2
// (S, D), HPR (lower) and HPR2 (upper) (C, Z); and in C and Z the triangular
// TRMV, TRSV, TPMV and TPSV. The reference builds each dense matrix first and
// packs it into band or packed storage for cuBLAS, so that an index computed
// the wrong way shows; unused storage (a band's corners, a unit diagonal, a
// Hermitian diagonal's imaginary part) holds garbage cuBLAS must not read.
#include <cublas_v2.h>

#include <cmath>
#include <complex>
#include <type_traits>
#include <vector>

#include "cublas_test.h"
#include "device_vectors.h"

namespace {

using rtest::Wide;

constexpr double kGarbage = 1e6;

using rtest::Apply;
using rtest::Arg;
using rtest::Dense;
using rtest::FromWide;
using rtest::PackedStorage;
using rtest::Random;
template <class T>
constexpr bool kComplex = rtest::kIsComplex<T>;

// The precision's functions.
template <class T>
struct Blas;
template <>
struct Blas<float> {
  template <class... A> static cublasStatus_t Gbmv(A... a) { return cublasSgbmv(a...); }
  template <class... A> static cublasStatus_t Symmetric(A... a) { return cublasSsbmv(a...); }
  template <class... A> static cublasStatus_t Tbmv(A... a) { return cublasStbmv(a...); }
  template <class... A> static cublasStatus_t Tbsv(A... a) { return cublasStbsv(a...); }
  template <class... A> static cublasStatus_t Spr2(A... a) { return cublasSspr2(a...); }
};
template <>
struct Blas<double> {
  template <class... A> static cublasStatus_t Gbmv(A... a) { return cublasDgbmv(a...); }
  template <class... A> static cublasStatus_t Symmetric(A... a) { return cublasDsbmv(a...); }
  template <class... A> static cublasStatus_t Tbmv(A... a) { return cublasDtbmv(a...); }
  template <class... A> static cublasStatus_t Tbsv(A... a) { return cublasDtbsv(a...); }
  template <class... A> static cublasStatus_t Spr2(A... a) { return cublasDspr2(a...); }
};
template <>
struct Blas<std::complex<float>> {
  template <class... A> static cublasStatus_t Gbmv(A... a) { return cublasCgbmv(a...); }
  template <class... A> static cublasStatus_t Symmetric(A... a) { return cublasChbmv(a...); }
  template <class... A> static cublasStatus_t Tbmv(A... a) { return cublasCtbmv(a...); }
  template <class... A> static cublasStatus_t Tbsv(A... a) { return cublasCtbsv(a...); }
  template <class... A> static cublasStatus_t Hpr(A... a) { return cublasChpr(a...); }
  template <class... A> static cublasStatus_t Hpr2(A... a) { return cublasChpr2(a...); }
  template <class... A> static cublasStatus_t Trmv(A... a) { return cublasCtrmv(a...); }
  template <class... A> static cublasStatus_t Trsv(A... a) { return cublasCtrsv(a...); }
  template <class... A> static cublasStatus_t Tpmv(A... a) { return cublasCtpmv(a...); }
  template <class... A> static cublasStatus_t Tpsv(A... a) { return cublasCtpsv(a...); }
};
template <>
struct Blas<std::complex<double>> {
  template <class... A> static cublasStatus_t Gbmv(A... a) { return cublasZgbmv(a...); }
  template <class... A> static cublasStatus_t Symmetric(A... a) { return cublasZhbmv(a...); }
  template <class... A> static cublasStatus_t Tbmv(A... a) { return cublasZtbmv(a...); }
  template <class... A> static cublasStatus_t Tbsv(A... a) { return cublasZtbsv(a...); }
  template <class... A> static cublasStatus_t Hpr(A... a) { return cublasZhpr(a...); }
  template <class... A> static cublasStatus_t Hpr2(A... a) { return cublasZhpr2(a...); }
  template <class... A> static cublasStatus_t Trmv(A... a) { return cublasZtrmv(a...); }
  template <class... A> static cublasStatus_t Trsv(A... a) { return cublasZtrsv(a...); }
  template <class... A> static cublasStatus_t Tpmv(A... a) { return cublasZtpmv(a...); }
  template <class... A> static cublasStatus_t Tpsv(A... a) { return cublasZtpsv(a...); }
};

using rtest::StridedIndex;

// The band of `a` (`lower` subdiagonals, `upper` superdiagonals) in cuBLAS's
// band storage of leading dimension ld, garbage elsewhere.
template <class T>
std::vector<T> BandStorage(const Dense& a, int lower, int upper, int ld) {
  std::vector<T> s(size_t(ld) * a.cols, FromWide<T>(Wide(kGarbage, kGarbage)));
  for (int j = 0; j < a.cols; ++j)
    for (int i = std::max(0, j - upper); i <= std::min(a.rows - 1, j + lower); ++i)
      s[upper + i - j + size_t(j) * ld] = FromWide<T>(a(i, j));
  return s;
}

// A random matrix zero outside its band; Hermitian (symmetric when real)
// when `hermitian`, with `diagonal` added to the diagonal.
template <class T>
Dense RandomBand(rtest::Rng& rng, int m, int n, int lower, int upper, bool hermitian, double diagonal = 0) {
  Dense a(m, n);
  for (int j = 0; j < n; ++j)
    for (int i = std::max(0, j - upper); i <= std::min(m - 1, j + lower); ++i) {
      if (hermitian && i > j) continue;
      a(i, j) = Wide(rng.Double(-1, 1), kComplex<T> && !(hermitian && i == j) ? rng.Double(-1, 1) : 0);
      if (i == j) a(i, j) += diagonal;
      if (hermitian) a(j, i) = std::conj(a(i, j));
    }
  return a;
}

template <class T>
std::vector<Wide> MatVec(cublasOperation_t op, const Dense& a, Wide alpha, const std::vector<T>& x, int incx,
                         Wide beta, const std::vector<T>& y, int incy) {
  const int rows = op == CUBLAS_OP_N ? a.rows : a.cols, cols = op == CUBLAS_OP_N ? a.cols : a.rows;
  std::vector<Wide> want = rtest::Widen(y);
  for (int i = 0; i < rows; ++i) {
    Wide acc = 0;
    for (int j = 0; j < cols; ++j) acc += Apply(op, a, i, j) * rtest::ToWide(x[StridedIndex(j, cols, incx)]);
    want[StridedIndex(i, rows, incy)] = alpha * acc + beta * rtest::ToWide(y[StridedIndex(i, rows, incy)]);
  }
  return want;
}

template <class T>
void BandProducts(cublasHandle_t h, cudaStream_t stream, rtest::Rng& rng, rtest::Checksum& sum) {
  using B = Blas<T>;
  const T alpha = FromWide<T>(Wide(0.75, -0.5)), beta = FromWide<T>(Wide(-1.25, 0.25));
  // GBMV: A 7 x 6 with 2 sub- and 1 superdiagonal, ld 5 (a row of garbage).
  const int m = 7, n = 6, kl = 2, ku = 1, ld = kl + ku + 2;
  const Dense a = RandomBand<T>(rng, m, n, kl, ku, false);
  std::vector<T> ab = BandStorage<T>(a, kl, ku, ld);
  T* dab = rtest::ToDevice(ab);
  for (cublasOperation_t op : {CUBLAS_OP_N, CUBLAS_OP_T, CUBLAS_OP_C}) {
    const int rows = op == CUBLAS_OP_N ? m : n, cols = op == CUBLAS_OP_N ? n : m, incx = 2, incy = -1;
    std::vector<T> x = Random<T>(rng, size_t(1 + (cols - 1) * incx)), y = Random<T>(rng, rows);
    T *dx = rtest::ToDevice(x), *dy = rtest::ToDevice(y);
    CUBLAS_CHECK(B::Gbmv(h, op, m, n, kl, ku, Arg(&alpha), Arg(dab), ld, Arg(dx), incx, Arg(&beta), Arg(dy), incy));
    std::vector<T> got = rtest::FromDevice(dy, y.size(), stream);
    rtest::ExpectNear(got, MatVec(op, a, rtest::ToWide(alpha), x, incx, rtest::ToWide(beta), y, incy), "GBMV");
    sum.AddVector(got);
    CUDA_CHECK(cudaFree(dx));
    CUDA_CHECK(cudaFree(dy));
  }
  CUDA_CHECK(cudaFree(dab));
  // SBMV / HBMV, upper: a band of 2 superdiagonals, ld 4; the garbage in the
  // diagonal's imaginary part must be read as zero.
  {
    const int k = 2, lds = k + 2, incx = -1, incy = 2;
    const Dense s = RandomBand<T>(rng, n, n, k, k, true);
    std::vector<T> sb = BandStorage<T>(s, 0, k, lds);
    if constexpr (kComplex<T>)
      for (int j = 0; j < n; ++j) sb[k + size_t(j) * lds].imag(kGarbage);
    std::vector<T> x = Random<T>(rng, n), y = Random<T>(rng, size_t(1 + (n - 1) * incy));
    T *dsb = rtest::ToDevice(sb), *dx = rtest::ToDevice(x), *dy = rtest::ToDevice(y);
    CUBLAS_CHECK(B::Symmetric(h, CUBLAS_FILL_MODE_UPPER, n, k, Arg(&alpha), Arg(dsb), lds, Arg(dx), incx, Arg(&beta),
                              Arg(dy), incy));
    std::vector<T> got = rtest::FromDevice(dy, y.size(), stream);
    rtest::ExpectNear(got, MatVec(CUBLAS_OP_N, s, rtest::ToWide(alpha), x, incx, rtest::ToWide(beta), y, incy),
                      kComplex<T> ? "HBMV (upper)" : "SBMV (upper)");
    sum.AddVector(got);
    CUDA_CHECK(cudaFree(dsb));
    CUDA_CHECK(cudaFree(dx));
    CUDA_CHECK(cudaFree(dy));
  }
}

// x = op(A) x or op(A)^-1 x for triangular `a` (zero outside its triangle).
template <class T>
std::vector<Wide> TriangularReference(cublasOperation_t op, const Dense& a, const std::vector<T>& x, int incx,
                                      bool solve) {
  const int n = a.rows;
  std::vector<Wide> v(n), out(n);
  for (int i = 0; i < n; ++i) v[i] = rtest::ToWide(x[StridedIndex(i, n, incx)]);
  if (!solve) {
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) out[i] += Apply(op, a, i, j) * v[j];
  } else {
    // op(A) is triangular either way: Gaussian elimination without pivoting
    // on the dense op(A), which is exact for a triangle.
    Dense m(n, n);
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) m(i, j) = Apply(op, a, i, j);
    out = v;
    for (int c = 0; c < n; ++c)
      for (int r = 0; r < n; ++r)
        if (r != c && m(r, c) != Wide(0)) {
          const Wide f = m(r, c) / m(c, c);
          for (int q = 0; q < n; ++q) m(r, q) -= f * m(c, q);
          out[r] -= f * out[c];
        }
    for (int i = 0; i < n; ++i) out[i] /= m(i, i);
  }
  std::vector<Wide> want = rtest::Widen(x);
  for (int i = 0; i < n; ++i) want[StridedIndex(i, n, incx)] = out[i];
  return want;
}

template <class T>
void BandTriangular(cublasHandle_t h, cudaStream_t stream, rtest::Rng& rng, rtest::Checksum& sum) {
  using B = Blas<T>;
  const int n = 7, k = 2, ld = k + 2, incx = -2;
  // TBMV lower, op T (C when complex), non-unit; TBSV upper, op N, unit
  // diagonal (garbage stored on it).
  for (bool solve : {false, true}) {
    const bool lower = !solve;
    Dense a = RandomBand<T>(rng, n, n, lower ? k : 0, lower ? 0 : k, false, 2.0);
    const cublasOperation_t op = solve ? CUBLAS_OP_N : kComplex<T> ? CUBLAS_OP_C : CUBLAS_OP_T;
    std::vector<T> ab = BandStorage<T>(a, lower ? k : 0, lower ? 0 : k, ld);
    if (solve) {
      for (int j = 0; j < n; ++j) ab[k + size_t(j) * ld] = FromWide<T>(Wide(kGarbage, 0));
      for (int i = 0; i < n; ++i) a(i, i) = 1;
    }
    std::vector<T> x = Random<T>(rng, size_t(1 + (n - 1) * -incx));
    T *dab = rtest::ToDevice(ab), *dx = rtest::ToDevice(x);
    const cublasFillMode_t uplo = lower ? CUBLAS_FILL_MODE_LOWER : CUBLAS_FILL_MODE_UPPER;
    const cublasDiagType_t diag = solve ? CUBLAS_DIAG_UNIT : CUBLAS_DIAG_NON_UNIT;
    if (solve) CUBLAS_CHECK(B::Tbsv(h, uplo, op, diag, n, k, Arg(dab), ld, Arg(dx), incx));
    else CUBLAS_CHECK(B::Tbmv(h, uplo, op, diag, n, k, Arg(dab), ld, Arg(dx), incx));
    std::vector<T> got = rtest::FromDevice(dx, x.size(), stream);
    rtest::ExpectNear(got, TriangularReference(op, a, x, incx, solve), solve ? "TBSV (upper, unit)" : "TBMV (lower)");
    sum.AddVector(got);
    CUDA_CHECK(cudaFree(dab));
    CUDA_CHECK(cudaFree(dx));
  }
}

// SPR2 (real) or HPR2 (complex), upper; HPR, lower (complex only).
template <class T>
void PackedUpdates(cublasHandle_t h, cudaStream_t stream, rtest::Rng& rng, rtest::Checksum& sum) {
  using B = Blas<T>;
  const int n = 6, incx = 2, incy = -1;
  const T alpha = FromWide<T>(Wide(0.5, -1.25));
  const std::vector<T> x = Random<T>(rng, size_t(1 + (n - 1) * incx)), y = Random<T>(rng, n);
  auto xi = [&](int i) { return rtest::ToWide(x[StridedIndex(i, n, incx)]); };
  auto yi = [&](int i) { return rtest::ToWide(y[StridedIndex(i, n, incy)]); };
  for (bool rank1 : {false, true}) {
    if (rank1 && !kComplex<T>) continue;
    const bool lower = rank1;
    const Dense a = RandomBand<T>(rng, n, n, n, n, true);
    std::vector<T> ap = PackedStorage<T>(a, lower);
    T *dap = rtest::ToDevice(ap), *dx = rtest::ToDevice(x), *dy = rtest::ToDevice(y);
    const cublasFillMode_t uplo = lower ? CUBLAS_FILL_MODE_LOWER : CUBLAS_FILL_MODE_UPPER;
    Dense want(n, n);
    const Wide w = rtest::ToWide(alpha);
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < n; ++i)
        want(i, j) = a(i, j) + (rank1 ? w.real() * xi(i) * std::conj(xi(j))
                                      : w * xi(i) * std::conj(yi(j)) + std::conj(w) * yi(i) * std::conj(xi(j)));
    if constexpr (kComplex<T>) {
      if (rank1) {
        const auto real_alpha = alpha.real();
        CUBLAS_CHECK(B::Hpr(h, uplo, n, &real_alpha, Arg(dx), incx, Arg(dap)));
      } else {
        CUBLAS_CHECK(B::Hpr2(h, uplo, n, Arg(&alpha), Arg(dx), incx, Arg(dy), incy, Arg(dap)));
      }
    } else {
      CUBLAS_CHECK(B::Spr2(h, uplo, n, &alpha, dx, incx, dy, incy, dap));
    }
    std::vector<T> got = rtest::FromDevice(dap, ap.size(), stream);
    rtest::ExpectNear(got, rtest::Widen(PackedStorage<Wide>(want, lower)),
                      rank1 ? "HPR (lower)" : kComplex<T> ? "HPR2 (upper)" : "SPR2 (upper)");
    sum.AddVector(got);
    CUDA_CHECK(cudaFree(dap));
    CUDA_CHECK(cudaFree(dx));
    CUDA_CHECK(cudaFree(dy));
  }
}

// C and Z TRMV, TRSV (full storage, ld n+2) and TPMV, TPSV (packed): upper
// and lower, ops N, T and C, unit and non-unit diagonals.
template <class T>
void ComplexTriangular(cublasHandle_t h, cudaStream_t stream, rtest::Rng& rng, rtest::Checksum& sum) {
  using B = Blas<T>;
  const int n = 6, ld = n + 2, incx = 3;
  const cublasOperation_t ops[] = {CUBLAS_OP_N, CUBLAS_OP_T, CUBLAS_OP_C};
  for (int variant = 0; variant < 6; ++variant) {
    const bool lower = variant % 2 == 0, unit = variant >= 3;
    const cublasOperation_t op = ops[variant % 3];
    Dense a = RandomBand<T>(rng, n, n, lower ? n : 0, lower ? 0 : n, false, 2.0);
    std::vector<T> full(size_t(ld) * n, FromWide<T>(Wide(kGarbage, kGarbage)));
    for (int j = 0; j < n; ++j)
      for (int i = lower ? j : 0; i < (lower ? n : j + 1); ++i) full[i + size_t(j) * ld] = FromWide<T>(a(i, j));
    std::vector<T> ap = PackedStorage<T>(a, lower);
    if (unit) {
      for (int i = 0; i < n; ++i) {
        full[i + size_t(i) * ld] = FromWide<T>(Wide(kGarbage, 0));
        a(i, i) = 1;
      }
      for (int j = 0; j < n; ++j) ap[lower ? j + (2 * n - j - 1) * j / 2 : j + j * (j + 1) / 2] = FromWide<T>(kGarbage);
    }
    const cublasFillMode_t uplo = lower ? CUBLAS_FILL_MODE_LOWER : CUBLAS_FILL_MODE_UPPER;
    const cublasDiagType_t diag = unit ? CUBLAS_DIAG_UNIT : CUBLAS_DIAG_NON_UNIT;
    for (int kind = 0; kind < 4; ++kind) {
      const bool packed = kind >= 2, solve = kind % 2 == 1;
      std::vector<T> x = Random<T>(rng, size_t(1 + (n - 1) * incx));
      T *dm = rtest::ToDevice(packed ? ap : full), *dx = rtest::ToDevice(x);
      if (packed && solve) CUBLAS_CHECK(B::Tpsv(h, uplo, op, diag, n, Arg(dm), Arg(dx), incx));
      if (packed && !solve) CUBLAS_CHECK(B::Tpmv(h, uplo, op, diag, n, Arg(dm), Arg(dx), incx));
      if (!packed && solve) CUBLAS_CHECK(B::Trsv(h, uplo, op, diag, n, Arg(dm), ld, Arg(dx), incx));
      if (!packed && !solve) CUBLAS_CHECK(B::Trmv(h, uplo, op, diag, n, Arg(dm), ld, Arg(dx), incx));
      std::vector<T> got = rtest::FromDevice(dx, x.size(), stream);
      static const char* const kNames[] = {"TRMV", "TRSV", "TPMV", "TPSV"};
      rtest::ExpectNear(got, TriangularReference(op, a, x, incx, solve), kNames[kind]);
      sum.AddVector(got);
      CUDA_CHECK(cudaFree(dm));
      CUDA_CHECK(cudaFree(dx));
    }
  }
}

template <class T>
void All(cublasHandle_t h, cudaStream_t stream, rtest::Rng& rng, rtest::Checksum& sum) {
  BandProducts<T>(h, stream, rng, sum);
  BandTriangular<T>(h, stream, rng, sum);
  PackedUpdates<T>(h, stream, rng, sum);
  if constexpr (kComplex<T>) ComplexTriangular<T>(h, stream, rng, sum);
}

}  // namespace

int main() {
  rtest::Rng rng = rtest::Init("cublas_band");
  rtest::Checksum sum;
  {
    rtest::CublasOnStream blas;
    All<float>(blas.handle(), blas.stream(), rng, sum);
    All<double>(blas.handle(), blas.stream(), rng, sum);
    All<std::complex<float>>(blas.handle(), blas.stream(), rng, sum);
    All<std::complex<double>>(blas.handle(), blas.stream(), rng, sum);
  }
  return rtest::Pass(sum);
}
