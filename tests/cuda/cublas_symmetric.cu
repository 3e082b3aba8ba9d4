// cublas_symmetric: an unmodified cuBLAS program with symmetric and
// triangular matrices (linked with NVIDIA's libcublas.so.13; through rcuda
// it binds to rcuda's, client/libs/). In S, D, C and Z: SYR (lower), SYR2
// (upper), SYR2K (both triangles, ops N and T), SYRKX (upper, T), TPTTR and
// TRTTP. In C and Z: SYMV (upper), GERU and GERC, SYMM (left lower, right
// upper), SYRK (lower, T), HERKX (upper, C), TRMM (out of place: left lower
// N, right upper C unit), TRSM (left upper T, right lower C unit) and DGMM
// (both sides). The host reference is std::complex<double>; the triangle a
// routine must not touch, or must not read, holds garbage, and the whole
// matrix is compared, so writing or reading the wrong side shows. Catches a
// symmetric matrix conjugated as a Hermitian one, GERU and GERC swapped.
#include <cublas_v2.h>

#include <cmath>
#include <complex>
#include <vector>

#include "cublas_test.h"
#include "device_vectors.h"

namespace {

using rtest::Apply;
using rtest::Arg;
using rtest::Product;
using rtest::Dense;
using rtest::ExpectMatrix;
using rtest::FromStorage;
using rtest::FromWide;
using rtest::FullStorage;
using rtest::Random;
using rtest::RandomDense;
using rtest::StridedIndex;
using rtest::ToWide;
using rtest::Wide;

constexpr double kGarbage = 1e6;

template <class T>
struct Blas;
template <>
struct Blas<float> {
  template <class... A> static cublasStatus_t Syr(A... a) { return cublasSsyr(a...); }
  template <class... A> static cublasStatus_t Syr2(A... a) { return cublasSsyr2(a...); }
  template <class... A> static cublasStatus_t Syr2k(A... a) { return cublasSsyr2k(a...); }
  template <class... A> static cublasStatus_t Syrkx(A... a) { return cublasSsyrkx(a...); }
  template <class... A> static cublasStatus_t Tpttr(A... a) { return cublasStpttr(a...); }
  template <class... A> static cublasStatus_t Trttp(A... a) { return cublasStrttp(a...); }
};
template <>
struct Blas<double> {
  template <class... A> static cublasStatus_t Syr(A... a) { return cublasDsyr(a...); }
  template <class... A> static cublasStatus_t Syr2(A... a) { return cublasDsyr2(a...); }
  template <class... A> static cublasStatus_t Syr2k(A... a) { return cublasDsyr2k(a...); }
  template <class... A> static cublasStatus_t Syrkx(A... a) { return cublasDsyrkx(a...); }
  template <class... A> static cublasStatus_t Tpttr(A... a) { return cublasDtpttr(a...); }
  template <class... A> static cublasStatus_t Trttp(A... a) { return cublasDtrttp(a...); }
};
template <>
struct Blas<std::complex<float>> {
  using R = float;
  template <class... A> static cublasStatus_t Syr(A... a) { return cublasCsyr(a...); }
  template <class... A> static cublasStatus_t Syr2(A... a) { return cublasCsyr2(a...); }
  template <class... A> static cublasStatus_t Syr2k(A... a) { return cublasCsyr2k(a...); }
  template <class... A> static cublasStatus_t Syrkx(A... a) { return cublasCsyrkx(a...); }
  template <class... A> static cublasStatus_t Tpttr(A... a) { return cublasCtpttr(a...); }
  template <class... A> static cublasStatus_t Trttp(A... a) { return cublasCtrttp(a...); }
  template <class... A> static cublasStatus_t Symv(A... a) { return cublasCsymv(a...); }
  template <class... A> static cublasStatus_t Geru(A... a) { return cublasCgeru(a...); }
  template <class... A> static cublasStatus_t Gerc(A... a) { return cublasCgerc(a...); }
  template <class... A> static cublasStatus_t Symm(A... a) { return cublasCsymm(a...); }
  template <class... A> static cublasStatus_t Syrk(A... a) { return cublasCsyrk(a...); }
  template <class... A> static cublasStatus_t Herkx(A... a) { return cublasCherkx(a...); }
  template <class... A> static cublasStatus_t Trmm(A... a) { return cublasCtrmm(a...); }
  template <class... A> static cublasStatus_t Trsm(A... a) { return cublasCtrsm(a...); }
  template <class... A> static cublasStatus_t Dgmm(A... a) { return cublasCdgmm(a...); }
};
template <>
struct Blas<std::complex<double>> {
  using R = double;
  template <class... A> static cublasStatus_t Syr(A... a) { return cublasZsyr(a...); }
  template <class... A> static cublasStatus_t Syr2(A... a) { return cublasZsyr2(a...); }
  template <class... A> static cublasStatus_t Syr2k(A... a) { return cublasZsyr2k(a...); }
  template <class... A> static cublasStatus_t Syrkx(A... a) { return cublasZsyrkx(a...); }
  template <class... A> static cublasStatus_t Tpttr(A... a) { return cublasZtpttr(a...); }
  template <class... A> static cublasStatus_t Trttp(A... a) { return cublasZtrttp(a...); }
  template <class... A> static cublasStatus_t Symv(A... a) { return cublasZsymv(a...); }
  template <class... A> static cublasStatus_t Geru(A... a) { return cublasZgeru(a...); }
  template <class... A> static cublasStatus_t Gerc(A... a) { return cublasZgerc(a...); }
  template <class... A> static cublasStatus_t Symm(A... a) { return cublasZsymm(a...); }
  template <class... A> static cublasStatus_t Syrk(A... a) { return cublasZsyrk(a...); }
  template <class... A> static cublasStatus_t Herkx(A... a) { return cublasZherkx(a...); }
  template <class... A> static cublasStatus_t Trmm(A... a) { return cublasZtrmm(a...); }
  template <class... A> static cublasStatus_t Trsm(A... a) { return cublasZtrsm(a...); }
  template <class... A> static cublasStatus_t Dgmm(A... a) { return cublasZdgmm(a...); }
};

bool InTriangle(bool lower, int i, int j) { return lower ? i >= j : i <= j; }

// The matrix `uplo` names of symmetric storage `stored`: its triangle mirrored.
Dense Symmetrized(const Dense& stored, bool lower) {
  Dense s(stored.rows, stored.cols);
  for (int j = 0; j < s.cols; ++j)
    for (int i = 0; i < s.rows; ++i) s(i, j) = InTriangle(lower, i, j) ? stored(i, j) : stored(j, i);
  return s;
}

// Uploads `a` (leading dimension ld, garbage below its rows), runs `call`
// on it, and returns the result read back whole.
template <class T, class Call>
Dense RunOn(const Dense& a, int ld, cudaStream_t stream, rtest::Checksum& sum, const Call& call) {
  std::vector<T> host = FullStorage<T>(a, ld, Wide(kGarbage, kGarbage));
  T* d = rtest::ToDevice(host);
  call(d);
  std::vector<T> got = rtest::FromDevice(d, host.size(), stream);
  sum.AddVector(got);
  CUDA_CHECK(cudaFree(d));
  return FromStorage(got, a.rows, a.cols, ld);
}

// SYR (lower), SYR2 (upper): the other triangle, garbage, left as it was.
template <class T>
void RankUpdates(cublasHandle_t h, cudaStream_t stream, rtest::Rng& rng, rtest::Checksum& sum) {
  using B = Blas<T>;
  const int n = 6, lda = 8, incx = -2, incy = 1;
  const T alpha = FromWide<T>(Wide(0.75, -0.5));
  const std::vector<T> x = Random<T>(rng, size_t(1 + (n - 1) * 2)), y = Random<T>(rng, n);
  T *dx = rtest::ToDevice(x), *dy = rtest::ToDevice(y);
  auto xi = [&](int i) { return ToWide(x[StridedIndex(i, n, incx)]); };
  auto yi = [&](int i) { return ToWide(y[StridedIndex(i, n, incy)]); };
  for (bool two : {false, true}) {
    const bool lower = !two;
    const Dense a = RandomDense<T>(rng, n, n);
    Dense want = a;
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < n; ++i)
        if (InTriangle(lower, i, j))
          want(i, j) += ToWide(alpha) * (two ? xi(i) * yi(j) + yi(i) * xi(j) : xi(i) * xi(j));
    const cublasFillMode_t uplo = lower ? CUBLAS_FILL_MODE_LOWER : CUBLAS_FILL_MODE_UPPER;
    const Dense got = RunOn<T>(a, lda, stream, sum, [&](T* da) {
      if (two) CUBLAS_CHECK(B::Syr2(h, uplo, n, Arg(&alpha), Arg(dx), incx, Arg(dy), incy, Arg(da), lda));
      else CUBLAS_CHECK(B::Syr(h, uplo, n, Arg(&alpha), Arg(dx), incx, Arg(da), lda));
    });
    ExpectMatrix<T>(got, want, two ? "SYR2 (upper)" : "SYR (lower)");
  }
  CUDA_CHECK(cudaFree(dx));
  CUDA_CHECK(cudaFree(dy));
}

// The rank-k updates of C's `lower` triangle, op(X) n x k from X stored
// (op N: n x k; op T or C: k x n): SYR2K (`two`), SYRKX, SYRK (b null),
// HERKX (`hermitian`: op(B)^H, a real diagonal).
Dense RankKReference(const Dense& c, bool lower, cublasOperation_t op, Wide alpha, const Dense& a, const Dense* b,
                     Wide beta, bool two, bool hermitian) {
  const int n = c.rows, k = op == CUBLAS_OP_N ? a.cols : a.rows;
  const Dense& other = b ? *b : a;
  Dense want = c;
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < n; ++i) {
      if (!InTriangle(lower, i, j)) continue;
      Wide acc = 0;
      for (int p = 0; p < k; ++p) {
        const Wide bj = Apply(op, other, j, p);
        acc += Apply(op, a, i, p) * (hermitian ? std::conj(bj) : bj);
        if (two) acc += Apply(op, other, i, p) * Apply(op, a, j, p);
      }
      const Wide old = hermitian && i == j ? Wide(c(i, j).real(), 0) : c(i, j);
      want(i, j) = alpha * acc + beta * old;
      if (hermitian && i == j) want(i, j) = Wide(want(i, j).real(), 0);
    }
  return want;
}

// SYR2K (lower N, upper T), SYRKX (upper T).
template <class T>
void RankK(cublasHandle_t h, cudaStream_t stream, rtest::Rng& rng, rtest::Checksum& sum) {
  using B = Blas<T>;
  const int n = 5, k = 3, ldc = 7;
  const T alpha = FromWide<T>(Wide(-0.5, 1.25)), beta = FromWide<T>(Wide(0.25, 0.5));
  for (int variant = 0; variant < 3; ++variant) {
    const bool kx = variant == 2, lower = variant == 0;
    const cublasOperation_t op = variant == 0 ? CUBLAS_OP_N : CUBLAS_OP_T;
    const int rows = op == CUBLAS_OP_N ? n : k, cols = op == CUBLAS_OP_N ? k : n, ld = rows + 1;
    const Dense a = RandomDense<T>(rng, rows, cols), b = RandomDense<T>(rng, rows, cols), c = RandomDense<T>(rng, n, n);
    std::vector<T> ha = FullStorage<T>(a, ld), hb = FullStorage<T>(b, ld);
    T *da = rtest::ToDevice(ha), *db = rtest::ToDevice(hb);
    const cublasFillMode_t uplo = lower ? CUBLAS_FILL_MODE_LOWER : CUBLAS_FILL_MODE_UPPER;
    const Dense got = RunOn<T>(c, ldc, stream, sum, [&](T* dc) {
      if (kx) CUBLAS_CHECK(B::Syrkx(h, uplo, op, n, k, Arg(&alpha), Arg(da), ld, Arg(db), ld, Arg(&beta), Arg(dc), ldc));
      else CUBLAS_CHECK(B::Syr2k(h, uplo, op, n, k, Arg(&alpha), Arg(da), ld, Arg(db), ld, Arg(&beta), Arg(dc), ldc));
    });
    ExpectMatrix<T>(got, RankKReference(c, lower, op, ToWide(alpha), a, &b, ToWide(beta), !kx, false),
                    kx ? "SYRKX (upper, T)" : lower ? "SYR2K (lower, N)" : "SYR2K (upper, T)");
    CUDA_CHECK(cudaFree(da));
    CUDA_CHECK(cudaFree(db));
  }
}

// TPTTR (lower) into full storage whose other triangle keeps its garbage,
// TRTTP (upper) of a full matrix whose lower triangle is garbage.
template <class T>
void PackedConversions(cublasHandle_t h, cudaStream_t stream, rtest::Rng& rng, rtest::Checksum& sum) {
  using B = Blas<T>;
  const int n = 6, lda = 7;
  const Dense a = RandomDense<T>(rng, n, n);
  // TPTTR: packed lower -> full.
  std::vector<T> packed = rtest::PackedStorage<T>(a, true);
  T* dap = rtest::ToDevice(packed);
  Dense garbage(n, n);
  for (Wide& v : garbage.v) v = Wide(kGarbage, rtest::kIsComplex<T> ? -kGarbage : 0);
  const Dense full = RunOn<T>(garbage, lda, stream, sum, [&](T* dA) {
    CUBLAS_CHECK(B::Tpttr(h, CUBLAS_FILL_MODE_LOWER, n, Arg(dap), Arg(dA), lda));
  });
  Dense want = garbage;
  for (int j = 0; j < n; ++j)
    for (int i = j; i < n; ++i) want(i, j) = a(i, j);
  ExpectMatrix<T>(full, want, "TPTTR (lower)");
  CUDA_CHECK(cudaFree(dap));
  // TRTTP: full upper -> packed.
  std::vector<T> ha = FullStorage<T>(a, lda, Wide(kGarbage, kGarbage));
  T* dA = rtest::ToDevice(ha);
  std::vector<T> out(size_t(n) * (n + 1) / 2, FromWide<T>(Wide(kGarbage, 0)));
  T* dout = rtest::ToDevice(out);
  CUBLAS_CHECK(B::Trttp(h, CUBLAS_FILL_MODE_UPPER, n, Arg(dA), lda, Arg(dout)));
  std::vector<T> got = rtest::FromDevice(dout, out.size(), stream);
  rtest::ExpectNear(got, rtest::Widen(rtest::PackedStorage<Wide>(a, false)), "TRTTP (upper)");
  sum.AddVector(got);
  CUDA_CHECK(cudaFree(dA));
  CUDA_CHECK(cudaFree(dout));
}

// The triangular matrix a `lower` triangle of `stored` holds (the diagonal
// 1 when `unit`), zero elsewhere.
Dense Triangular(const Dense& stored, bool lower, bool unit) {
  Dense t(stored.rows, stored.cols);
  for (int j = 0; j < t.cols; ++j)
    for (int i = 0; i < t.rows; ++i)
      if (InTriangle(lower, i, j)) t(i, j) = unit && i == j ? Wide(1) : stored(i, j);
  return t;
}

// C and Z: SYMV, GERU, GERC, SYMM, SYRK, HERKX.
template <class T>
void ComplexSymmetric(cublasHandle_t h, cudaStream_t stream, rtest::Rng& rng, rtest::Checksum& sum) {
  using B = Blas<T>;
  const T alpha = FromWide<T>(Wide(0.5, -1.25)), beta = FromWide<T>(Wide(-0.75, 0.5));
  const Wide wa = ToWide(alpha), wb = ToWide(beta);
  // SYMV, upper (the lower triangle holds other values, which it must not read).
  {
    const int n = 6, lda = 8, incx = 2, incy = -1;
    const Dense stored = RandomDense<T>(rng, n, n), s = Symmetrized(stored, false);
    std::vector<T> ha = FullStorage<T>(stored, lda), x = Random<T>(rng, 1 + (n - 1) * incx), y = Random<T>(rng, n);
    T *da = rtest::ToDevice(ha), *dx = rtest::ToDevice(x), *dy = rtest::ToDevice(y);
    CUBLAS_CHECK(B::Symv(h, CUBLAS_FILL_MODE_UPPER, n, Arg(&alpha), Arg(da), lda, Arg(dx), incx, Arg(&beta), Arg(dy),
                         incy));
    std::vector<Wide> want = rtest::Widen(y);
    for (int i = 0; i < n; ++i) {
      Wide acc = 0;
      for (int j = 0; j < n; ++j) acc += s(i, j) * ToWide(x[StridedIndex(j, n, incx)]);
      want[StridedIndex(i, n, incy)] = wa * acc + wb * ToWide(y[StridedIndex(i, n, incy)]);
    }
    std::vector<T> got = rtest::FromDevice(dy, y.size(), stream);
    rtest::ExpectNear(got, want, "SYMV (upper)");
    sum.AddVector(got);
    CUDA_CHECK(cudaFree(da));
    CUDA_CHECK(cudaFree(dx));
    CUDA_CHECK(cudaFree(dy));
  }
  // GERU and GERC: A m x n (lda m+2) + alpha x y^T or x y^H.
  for (bool conjugate : {false, true}) {
    const int m = 5, n = 4, lda = m + 2, incx = 1, incy = -2;
    const Dense a = RandomDense<T>(rng, m, n);
    std::vector<T> x = Random<T>(rng, m), y = Random<T>(rng, 1 + (n - 1) * 2);
    T *dx = rtest::ToDevice(x), *dy = rtest::ToDevice(y);
    Dense want = a;
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < m; ++i) {
        const Wide yj = ToWide(y[StridedIndex(j, n, incy)]);
        want(i, j) += wa * ToWide(x[StridedIndex(i, m, incx)]) * (conjugate ? std::conj(yj) : yj);
      }
    const Dense got = RunOn<T>(a, lda, stream, sum, [&](T* da) {
      if (conjugate) CUBLAS_CHECK(B::Gerc(h, m, n, Arg(&alpha), Arg(dx), incx, Arg(dy), incy, Arg(da), lda));
      else CUBLAS_CHECK(B::Geru(h, m, n, Arg(&alpha), Arg(dx), incx, Arg(dy), incy, Arg(da), lda));
    });
    ExpectMatrix<T>(got, want, conjugate ? "GERC" : "GERU");
    CUDA_CHECK(cudaFree(dx));
    CUDA_CHECK(cudaFree(dy));
  }
  // SYMM: left with A lower, right with A upper.
  for (bool left : {true, false}) {
    const int m = 4, n = 5, ka = left ? m : n, lda = ka + 1, ldb = m + 1, ldc = m + 2;
    const Dense stored = RandomDense<T>(rng, ka, ka), s = Symmetrized(stored, left), b = RandomDense<T>(rng, m, n),
                c = RandomDense<T>(rng, m, n);
    std::vector<T> ha = FullStorage<T>(stored, lda), hb = FullStorage<T>(b, ldb);
    T *da = rtest::ToDevice(ha), *db = rtest::ToDevice(hb);
    Dense want = left ? Product(wa, CUBLAS_OP_N, s, CUBLAS_OP_N, b) : Product(wa, CUBLAS_OP_N, b, CUBLAS_OP_N, s);
    for (size_t i = 0; i < want.v.size(); ++i) want.v[i] += wb * c.v[i];
    const Dense got = RunOn<T>(c, ldc, stream, sum, [&](T* dc) {
      CUBLAS_CHECK(B::Symm(h, left ? CUBLAS_SIDE_LEFT : CUBLAS_SIDE_RIGHT,
                           left ? CUBLAS_FILL_MODE_LOWER : CUBLAS_FILL_MODE_UPPER, m, n, Arg(&alpha), Arg(da), lda,
                           Arg(db), ldb, Arg(&beta), Arg(dc), ldc));
    });
    ExpectMatrix<T>(got, want, left ? "SYMM (left, lower)" : "SYMM (right, upper)");
    CUDA_CHECK(cudaFree(da));
    CUDA_CHECK(cudaFree(db));
  }
  // SYRK, lower, op T: C = alpha A^T A + beta C (A k x n). HERKX, upper, op
  // C: C = alpha A^H B + beta C with B = D A (D real diagonal), so that the
  // result is Hermitian as HERKX requires; alpha and beta real.
  {
    const int n = 5, k = 3, lda = k + 1, ldc = n + 1;
    const Dense a = RandomDense<T>(rng, k, n), c = RandomDense<T>(rng, n, n);
    Dense b = a;
    for (int j = 0; j < n; ++j)
      for (int p = 0; p < k; ++p) b(p, j) *= 0.5 + p;
    std::vector<T> ha = FullStorage<T>(a, lda), hb = FullStorage<T>(b, lda);
    T *da = rtest::ToDevice(ha), *db = rtest::ToDevice(hb);
    Dense got = RunOn<T>(c, ldc, stream, sum, [&](T* dc) {
      CUBLAS_CHECK(B::Syrk(h, CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_T, n, k, Arg(&alpha), Arg(da), lda, Arg(&beta),
                           Arg(dc), ldc));
    });
    ExpectMatrix<T>(got, RankKReference(c, true, CUBLAS_OP_T, wa, a, nullptr, wb, false, false), "SYRK (lower, T)");
    const T real_alpha = FromWide<T>(Wide(0.75, 0));
    const typename B::R real_beta = -0.5;
    got = RunOn<T>(c, ldc, stream, sum, [&](T* dc) {
      CUBLAS_CHECK(B::Herkx(h, CUBLAS_FILL_MODE_UPPER, CUBLAS_OP_C, n, k, Arg(&real_alpha), Arg(da), lda, Arg(db),
                            lda, &real_beta, Arg(dc), ldc));
    });
    ExpectMatrix<T>(got, RankKReference(c, false, CUBLAS_OP_C, 0.75, a, &b, real_beta, false, true),
                    "HERKX (upper, C)");
    CUDA_CHECK(cudaFree(da));
    CUDA_CHECK(cudaFree(db));
  }
}

// C and Z: TRMM (out of place), TRSM, DGMM.
template <class T>
void ComplexTriangular(cublasHandle_t h, cudaStream_t stream, rtest::Rng& rng, rtest::Checksum& sum) {
  using B = Blas<T>;
  const int m = 4, n = 5;
  const T alpha = FromWide<T>(Wide(1.5, -0.5));
  const Wide wa = ToWide(alpha);
  // TRMM: left lower N non-unit; right upper C unit (its diagonal garbage).
  for (bool left : {true, false}) {
    const int ka = left ? m : n, lda = ka + 1, ldb = m + 1, ldc = m + 2;
    const cublasOperation_t op = left ? CUBLAS_OP_N : CUBLAS_OP_C;
    Dense stored = RandomDense<T>(rng, ka, ka);
    if (!left)
      for (int i = 0; i < ka; ++i) stored(i, i) = Wide(kGarbage, kGarbage);
    const Dense tri = Triangular(stored, left, !left), b = RandomDense<T>(rng, m, n);
    std::vector<T> ha = FullStorage<T>(stored, lda), hb = FullStorage<T>(b, ldb);
    T *da = rtest::ToDevice(ha), *db = rtest::ToDevice(hb);
    const Dense want = left ? Product(wa, op, tri, CUBLAS_OP_N, b) : Product(wa, CUBLAS_OP_N, b, op, tri);
    const Dense got = RunOn<T>(Dense(m, n), ldc, stream, sum, [&](T* dc) {
      CUBLAS_CHECK(B::Trmm(h, left ? CUBLAS_SIDE_LEFT : CUBLAS_SIDE_RIGHT,
                           left ? CUBLAS_FILL_MODE_LOWER : CUBLAS_FILL_MODE_UPPER, op,
                           left ? CUBLAS_DIAG_NON_UNIT : CUBLAS_DIAG_UNIT, m, n, Arg(&alpha), Arg(da), lda, Arg(db),
                           ldb, Arg(dc), ldc));
    });
    ExpectMatrix<T>(got, want, left ? "TRMM (left, lower, N)" : "TRMM (right, upper, C, unit)");
    CUDA_CHECK(cudaFree(da));
    CUDA_CHECK(cudaFree(db));
  }
  // TRSM: left upper T non-unit; right lower C unit. X is drawn first and
  // B = op(A) X / alpha (or X op(A) / alpha), so the solution is X.
  for (bool left : {true, false}) {
    const int ka = left ? m : n, lda = ka + 2, ldb = m + 1;
    const cublasOperation_t op = left ? CUBLAS_OP_T : CUBLAS_OP_C;
    Dense stored = RandomDense<T>(rng, ka, ka);
    for (int i = 0; i < ka; ++i) stored(i, i) = left ? stored(i, i) + 3.0 : Wide(kGarbage, 0);
    const Dense tri = Triangular(stored, !left, !left), x = RandomDense<T>(rng, m, n);
    const Dense b = left ? Product(1.0 / wa, op, tri, CUBLAS_OP_N, x) : Product(1.0 / wa, CUBLAS_OP_N, x, op, tri);
    std::vector<T> ha = FullStorage<T>(stored, lda);
    T* da = rtest::ToDevice(ha);
    const Dense got = RunOn<T>(b, ldb, stream, sum, [&](T* db) {
      CUBLAS_CHECK(B::Trsm(h, left ? CUBLAS_SIDE_LEFT : CUBLAS_SIDE_RIGHT,
                           left ? CUBLAS_FILL_MODE_UPPER : CUBLAS_FILL_MODE_LOWER, op,
                           left ? CUBLAS_DIAG_NON_UNIT : CUBLAS_DIAG_UNIT, m, n, Arg(&alpha), Arg(da), lda, Arg(db),
                           ldb));
    });
    ExpectMatrix<T>(got, x, left ? "TRSM (left, upper, T)" : "TRSM (right, lower, C, unit)");
    CUDA_CHECK(cudaFree(da));
  }
  // DGMM: diag(x) A (x of m, increment 2), A diag(x) (x of n, increment -1).
  for (bool left : {true, false}) {
    const int lda = m + 1, ldc = m + 2, incx = left ? 2 : -1, len = left ? m : n;
    const Dense a = RandomDense<T>(rng, m, n);
    std::vector<T> ha = FullStorage<T>(a, lda), x = Random<T>(rng, 1 + (len - 1) * 2);
    T *da = rtest::ToDevice(ha), *dx = rtest::ToDevice(x);
    Dense want = a;
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < m; ++i) want(i, j) *= ToWide(x[left ? StridedIndex(i, m, incx) : StridedIndex(j, n, incx)]);
    const Dense got = RunOn<T>(Dense(m, n), ldc, stream, sum, [&](T* dc) {
      CUBLAS_CHECK(B::Dgmm(h, left ? CUBLAS_SIDE_LEFT : CUBLAS_SIDE_RIGHT, m, n, Arg(da), lda, Arg(dx), incx, Arg(dc),
                           ldc));
    });
    ExpectMatrix<T>(got, want, left ? "DGMM (left)" : "DGMM (right)");
    CUDA_CHECK(cudaFree(da));
    CUDA_CHECK(cudaFree(dx));
  }
}

template <class T>
void All(cublasHandle_t h, cudaStream_t stream, rtest::Rng& rng, rtest::Checksum& sum) {
  RankUpdates<T>(h, stream, rng, sum);
  RankK<T>(h, stream, rng, sum);
  PackedConversions<T>(h, stream, rng, sum);
  if constexpr (rtest::kIsComplex<T>) {
    ComplexSymmetric<T>(h, stream, rng, sum);
    ComplexTriangular<T>(h, stream, rng, sum);
  }
}

}  // namespace

int main() {
  rtest::Rng rng = rtest::Init("cublas_symmetric");
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
