// cublas_batched: an unmodified cuBLAS program's batched routines (linked
// with NVIDIA's libcublas.so.13; through rcuda it binds to rcuda's,
// client/libs/), three matrices a batch. In C and Z: GEMM with pointer
// arrays (op(A) conjugate-transposed, op(B) transposed), GEMM3M (and
// Cgemm3mStridedBatched), GEMV with pointer arrays (conjugate-transposed)
// and strided (plain), TRSM with pointer arrays (left, lower), LU with
// pivots (getrfBatched) then getrsBatched (ops N and C) and getriBatched,
// matinvBatched; getrf and getri in S and D too; in half precision GEMM
// with pointer arrays and strided. Against host references in
// std::complex<double>: products element by element, solves by residual,
// inverses by A A^-1 = I. Catches a pointer array read as the wrong type, a
// batch's stride lost, a pivot array shared across the batch.
#include <cublas_v2.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <type_traits>
#include <vector>

#include "cublas_test.h"
#include "device_vectors.h"

namespace {

using rtest::Apply;
using rtest::Arg;
using rtest::Dense;
using rtest::ExpectMatrix;
using rtest::FromStorage;
using rtest::FromWide;
using rtest::FullStorage;
using rtest::RandomDense;
using rtest::StridedIndex;
using rtest::ToWide;
using rtest::Wide;

constexpr int kBatch = 3;

template <class T>
struct Blas;
template <>
struct Blas<float> {
  template <class... A> static cublasStatus_t Getrf(A... a) { return cublasSgetrfBatched(a...); }
  template <class... A> static cublasStatus_t Getri(A... a) { return cublasSgetriBatched(a...); }
};
template <>
struct Blas<double> {
  template <class... A> static cublasStatus_t Getrf(A... a) { return cublasDgetrfBatched(a...); }
  template <class... A> static cublasStatus_t Getri(A... a) { return cublasDgetriBatched(a...); }
};
template <>
struct Blas<std::complex<float>> {
  template <class... A> static cublasStatus_t Getrf(A... a) { return cublasCgetrfBatched(a...); }
  template <class... A> static cublasStatus_t Getri(A... a) { return cublasCgetriBatched(a...); }
  template <class... A> static cublasStatus_t Getrs(A... a) { return cublasCgetrsBatched(a...); }
  template <class... A> static cublasStatus_t Matinv(A... a) { return cublasCmatinvBatched(a...); }
  template <class... A> static cublasStatus_t Gemm(A... a) { return cublasCgemmBatched(a...); }
  template <class... A> static cublasStatus_t Gemm3m(A... a) { return cublasCgemm3m(a...); }
  template <class... A> static cublasStatus_t Gemv(A... a) { return cublasCgemvBatched(a...); }
  template <class... A> static cublasStatus_t GemvStrided(A... a) { return cublasCgemvStridedBatched(a...); }
  template <class... A> static cublasStatus_t Trsm(A... a) { return cublasCtrsmBatched(a...); }
};
template <>
struct Blas<std::complex<double>> {
  template <class... A> static cublasStatus_t Getrf(A... a) { return cublasZgetrfBatched(a...); }
  template <class... A> static cublasStatus_t Getri(A... a) { return cublasZgetriBatched(a...); }
  template <class... A> static cublasStatus_t Getrs(A... a) { return cublasZgetrsBatched(a...); }
  template <class... A> static cublasStatus_t Matinv(A... a) { return cublasZmatinvBatched(a...); }
  template <class... A> static cublasStatus_t Gemm(A... a) { return cublasZgemmBatched(a...); }
  template <class... A> static cublasStatus_t Gemm3m(A... a) { return cublasZgemm3m(a...); }
  template <class... A> static cublasStatus_t Gemv(A... a) { return cublasZgemvBatched(a...); }
  template <class... A> static cublasStatus_t GemvStrided(A... a) { return cublasZgemvStridedBatched(a...); }
  template <class... A> static cublasStatus_t Trsm(A... a) { return cublasZtrsmBatched(a...); }
};

// kBatch matrices uploaded one allocation each, and the device array of
// their pointers (what a pointer-array routine takes).
template <class T>
struct Batch {
  std::vector<T*> pointers;
  T** array = nullptr;
  std::vector<std::vector<T>> host;
  int ld = 0;

  Batch(const std::vector<Dense>& matrices, int ld_) : ld(ld_) {
    for (const Dense& m : matrices) {
      host.push_back(FullStorage<T>(m, ld));
      pointers.push_back(rtest::ToDevice(host.back()));
    }
    array = rtest::ToDevice(pointers);
  }
  ~Batch() {
    for (T* p : pointers) CUDA_CHECK(cudaFree(p));
    CUDA_CHECK(cudaFree(array));
  }
  // What cuBLAS takes: T** as cuComplex** etc.
  auto Args() { return reinterpret_cast<decltype(Arg(static_cast<T*>(nullptr)))*>(array); }
  Dense Read(int b, int rows, int cols, cudaStream_t stream, rtest::Checksum& sum) {
    std::vector<T> got = rtest::FromDevice(pointers[b], host[b].size(), stream);
    sum.AddVector(got);
    return FromStorage(got, rows, cols, ld);
  }
};

// getrfBatched with pivots, then getriBatched: A A^-1 = I for each.
template <class T>
void LuInverse(cublasHandle_t h, cudaStream_t stream, rtest::Rng& rng, rtest::Checksum& sum) {
  using B = Blas<T>;
  const int n = 6, lda = n + 1;
  std::vector<Dense> a;
  for (int b = 0; b < kBatch; ++b) a.push_back(RandomDense<T>(rng, n, n, 2.0));
  Batch<T> factors(a, lda), inverses(std::vector<Dense>(kBatch, Dense(n, n)), lda);
  int *pivots = nullptr, *info = nullptr;
  CUDA_CHECK(cudaMalloc(&pivots, sizeof(int) * n * kBatch));
  CUDA_CHECK(cudaMalloc(&info, sizeof(int) * kBatch));
  CUBLAS_CHECK(B::Getrf(h, n, factors.Args(), lda, pivots, info, kBatch));
  CUBLAS_CHECK(B::Getri(h, n, factors.Args(), lda, pivots, inverses.Args(), lda, info, kBatch));
  const std::vector<int> infos = rtest::FromDevice(info, kBatch, stream);
  for (int b = 0; b < kBatch; ++b) {
    CHECKF(infos[b] == 0, "getriBatched: info[%d] = %d", b, infos[b]);
    const Dense inverse = inverses.Read(b, n, n, stream, sum);
    Dense identity(n, n);
    for (int i = 0; i < n; ++i) identity(i, i) = 1;
    ExpectMatrix<T>(rtest::Product(1.0, CUBLAS_OP_N, a[b], CUBLAS_OP_N, inverse), identity,
                    "getrfBatched + getriBatched: A A^-1");
  }
  sum.AddVector(rtest::FromDevice(pivots, n * kBatch, stream));
  CUDA_CHECK(cudaFree(pivots));
  CUDA_CHECK(cudaFree(info));
}

// C and Z: getrsBatched (N and C) from getrfBatched's factors, by residual;
// matinvBatched, by A A^-1 = I.
template <class T>
void LuSolve(cublasHandle_t h, cudaStream_t stream, rtest::Rng& rng, rtest::Checksum& sum) {
  using B = Blas<T>;
  const int n = 5, nrhs = 2, lda = n + 2, ldb = n + 1;
  std::vector<Dense> a, rhs;
  for (int b = 0; b < kBatch; ++b) a.push_back(RandomDense<T>(rng, n, n, 2.0));
  for (int b = 0; b < kBatch; ++b) rhs.push_back(RandomDense<T>(rng, n, nrhs));
  Batch<T> factors(a, lda);
  int *pivots = nullptr, *info = nullptr;
  CUDA_CHECK(cudaMalloc(&pivots, sizeof(int) * n * kBatch));
  CUDA_CHECK(cudaMalloc(&info, sizeof(int) * kBatch));
  CUBLAS_CHECK(B::Getrf(h, n, factors.Args(), lda, pivots, info, kBatch));
  for (cublasOperation_t op : {CUBLAS_OP_N, CUBLAS_OP_C}) {
    Batch<T> x(rhs, ldb);
    int host_info = -1;
    CUBLAS_CHECK(B::Getrs(h, op, n, nrhs, factors.Args(), lda, pivots, x.Args(), ldb, &host_info, kBatch));
    CHECKF(host_info == 0, "getrsBatched: info %d", host_info);
    for (int b = 0; b < kBatch; ++b) {
      const Dense solution = x.Read(b, n, nrhs, stream, sum);
      ExpectMatrix<T>(rtest::Product(1.0, op, a[b], CUBLAS_OP_N, solution), rhs[b],
                      op == CUBLAS_OP_N ? "getrsBatched (N): op(A) X = B" : "getrsBatched (C): op(A) X = B");
    }
  }
  Batch<T> originals(a, lda), inverses(std::vector<Dense>(kBatch, Dense(n, n)), lda);
  CUBLAS_CHECK(B::Matinv(h, n, originals.Args(), lda, inverses.Args(), lda, info, kBatch));
  const std::vector<int> infos = rtest::FromDevice(info, kBatch, stream);
  for (int b = 0; b < kBatch; ++b) {
    CHECKF(infos[b] == 0, "matinvBatched: info[%d] = %d", b, infos[b]);
    Dense identity(n, n);
    for (int i = 0; i < n; ++i) identity(i, i) = 1;
    ExpectMatrix<T>(rtest::Product(1.0, CUBLAS_OP_N, a[b], CUBLAS_OP_N, inverses.Read(b, n, n, stream, sum)),
                    identity, "matinvBatched: A A^-1");
  }
  CUDA_CHECK(cudaFree(pivots));
  CUDA_CHECK(cudaFree(info));
}

// C and Z: GEMM (pointer arrays, op(A) = A^H, op(B) = B^T), GEMM3M, GEMV
// (pointer arrays with op C; strided with op N), TRSM (pointer arrays).
template <class T>
void Products(cublasHandle_t h, cudaStream_t stream, rtest::Rng& rng, rtest::Checksum& sum) {
  using B = Blas<T>;
  const T alpha = FromWide<T>(Wide(0.5, -1.25)), beta = FromWide<T>(Wide(-0.75, 0.25));
  const Wide wa = ToWide(alpha), wb = ToWide(beta);
  const int m = 4, n = 5, k = 3;
  {
    std::vector<Dense> a, b, c;
    for (int q = 0; q < kBatch; ++q) {
      a.push_back(RandomDense<T>(rng, k, m));  // op(A) = A^H: m x k
      b.push_back(RandomDense<T>(rng, n, k));  // op(B) = B^T: k x n
      c.push_back(RandomDense<T>(rng, m, n));
    }
    Batch<T> da(a, k + 1), db(b, n + 2), dc(c, m + 1);
    CUBLAS_CHECK(B::Gemm(h, CUBLAS_OP_C, CUBLAS_OP_T, m, n, k, Arg(&alpha), da.Args(), k + 1, db.Args(), n + 2,
                         Arg(&beta), dc.Args(), m + 1, kBatch));
    for (int q = 0; q < kBatch; ++q) {
      Dense want = rtest::Product(wa, CUBLAS_OP_C, a[q], CUBLAS_OP_T, b[q]);
      for (size_t i = 0; i < want.v.size(); ++i) want.v[i] += wb * c[q].v[i];
      ExpectMatrix<T>(dc.Read(q, m, n, stream, sum), want, "?gemmBatched");
    }
    // GEMM3M on the first matrices (the same product by another algorithm).
    CUBLAS_CHECK(B::Gemm3m(h, CUBLAS_OP_C, CUBLAS_OP_T, m, n, k, Arg(&alpha), Arg(da.pointers[0]), k + 1,
                           Arg(db.pointers[0]), n + 2, Arg(&beta), Arg(dc.pointers[0]), m + 1));
    Dense want = rtest::Product(wa, CUBLAS_OP_C, a[0], CUBLAS_OP_T, b[0]);
    const Dense first = rtest::Product(wa, CUBLAS_OP_C, a[0], CUBLAS_OP_T, b[0]);
    for (size_t i = 0; i < want.v.size(); ++i) want.v[i] += wb * (first.v[i] + wb * c[0].v[i]);
    ExpectMatrix<T>(dc.Read(0, m, n, stream, sum), want, "?gemm3m");
  }
  {  // GEMV, pointer arrays, op C: y = alpha A^H x + beta y, A m x n.
    const int incx = 2, incy = -1;
    std::vector<Dense> a, x, y;
    for (int q = 0; q < kBatch; ++q) {
      a.push_back(RandomDense<T>(rng, m, n));
      x.push_back(RandomDense<T>(rng, 1 + (m - 1) * incx, 1));
      y.push_back(RandomDense<T>(rng, n, 1));
    }
    Batch<T> da(a, m + 1), dx(x, 1 + (m - 1) * incx), dy(y, n);
    CUBLAS_CHECK(B::Gemv(h, CUBLAS_OP_C, m, n, Arg(&alpha), da.Args(), m + 1, dx.Args(), incx, Arg(&beta), dy.Args(),
                         incy, kBatch));
    for (int q = 0; q < kBatch; ++q) {
      Dense want = y[q];
      for (int i = 0; i < n; ++i) {
        Wide acc = 0;
        for (int j = 0; j < m; ++j) acc += Apply(CUBLAS_OP_C, a[q], i, j) * x[q](StridedIndex(j, m, incx), 0);
        want(StridedIndex(i, n, incy), 0) = wa * acc + wb * y[q](StridedIndex(i, n, incy), 0);
      }
      ExpectMatrix<T>(dy.Read(q, n, 1, stream, sum), want, "?gemvBatched");
    }
  }
  {  // GEMV, strided, op N: each batch's A, x and y one stride apart.
    const int lda = m + 1, sa = lda * n + 3, sx = n + 2, sy = m + 1;
    const std::vector<T> a = rtest::Random<T>(rng, size_t(sa) * kBatch), x = rtest::Random<T>(rng, size_t(sx) * kBatch),
                         y = rtest::Random<T>(rng, size_t(sy) * kBatch);
    T *da = rtest::ToDevice(a), *dx = rtest::ToDevice(x), *dy = rtest::ToDevice(y);
    CUBLAS_CHECK(B::GemvStrided(h, CUBLAS_OP_N, m, n, Arg(&alpha), Arg(da), lda, sa, Arg(dx), 1, sx, Arg(&beta),
                                Arg(dy), 1, sy, kBatch));
    std::vector<Wide> want = rtest::Widen(y);
    for (int q = 0; q < kBatch; ++q)
      for (int i = 0; i < m; ++i) {
        Wide acc = 0;
        for (int j = 0; j < n; ++j) acc += ToWide(a[q * sa + i + j * lda]) * ToWide(x[q * sx + j]);
        want[q * sy + i] = wa * acc + wb * ToWide(y[q * sy + i]);
      }
    const std::vector<T> got = rtest::FromDevice(dy, y.size(), stream);
    rtest::ExpectNear(got, want, "?gemvStridedBatched");
    sum.AddVector(got);
    for (T* p : {da, dx, dy}) CUDA_CHECK(cudaFree(p));
  }
  if constexpr (std::is_same_v<T, std::complex<float>>) {  // Cgemm3mStridedBatched, ops N and C.
    const int lda = m + 1, ldb = n, ldc = m, sa = lda * k + 2, sb = ldb * k, sc = ldc * n + 1;
    const std::vector<T> a = rtest::Random<T>(rng, size_t(sa) * kBatch), b = rtest::Random<T>(rng, size_t(sb) * kBatch),
                         c = rtest::Random<T>(rng, size_t(sc) * kBatch);
    T *da = rtest::ToDevice(a), *db = rtest::ToDevice(b), *dc = rtest::ToDevice(c);
    CUBLAS_CHECK(cublasCgemm3mStridedBatched(h, CUBLAS_OP_N, CUBLAS_OP_C, m, n, k, Arg(&alpha), Arg(da), lda, sa,
                                             Arg(db), ldb, sb, Arg(&beta), Arg(dc), ldc, sc, kBatch));
    std::vector<Wide> want = rtest::Widen(c);
    for (int q = 0; q < kBatch; ++q)
      for (int j = 0; j < n; ++j)
        for (int i = 0; i < m; ++i) {
          Wide acc = 0;  // B is n x k: op(B) = B^H
          for (int p = 0; p < k; ++p) acc += ToWide(a[q * sa + i + p * lda]) * std::conj(ToWide(b[q * sb + j + p * ldb]));
          want[q * sc + i + j * ldc] = wa * acc + wb * ToWide(c[q * sc + i + j * ldc]);
        }
    const std::vector<T> got = rtest::FromDevice(dc, c.size(), stream);
    rtest::ExpectNear(got, want, "Cgemm3mStridedBatched");
    sum.AddVector(got);
    for (T* ptr : {da, db, dc}) CUDA_CHECK(cudaFree(ptr));
  }
  {  // TRSM, pointer arrays: left, lower, N, non-unit; X drawn first, B = A X / alpha.
    std::vector<Dense> a, x, b;
    for (int q = 0; q < kBatch; ++q) {
      Dense t = RandomDense<T>(rng, m, m, 3.0);
      for (int j = 0; j < m; ++j)
        for (int i = 0; i < j; ++i) t(i, j) = 0;  // lower (the upper triangle uploaded as zeros)
      a.push_back(t);
      x.push_back(RandomDense<T>(rng, m, n));
      b.push_back(rtest::Product(1.0 / wa, CUBLAS_OP_N, t, CUBLAS_OP_N, x.back()));
    }
    Batch<T> da(a, m), db(b, m + 1);
    CUBLAS_CHECK(B::Trsm(h, CUBLAS_SIDE_LEFT, CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_N, CUBLAS_DIAG_NON_UNIT, m, n,
                         Arg(&alpha), da.Args(), m, db.Args(), m + 1, kBatch));
    for (int q = 0; q < kBatch; ++q) ExpectMatrix<T>(db.Read(q, m, n, stream, sum), x[q], "?trsmBatched");
  }
}

// Half precision: HgemmBatched and HgemmStridedBatched on values k/8, exact
// in half; the reference in double, the tolerance half's.
void HalfGemms(cublasHandle_t h, cudaStream_t stream, rtest::Rng& rng, rtest::Checksum& sum) {
  const int m = 4, n = 3, k = 5, lda = m, ldb = k, ldc = m, sa = m * k, sb = k * n, sc = m * n;
  auto draw = [&](size_t count) {
    std::vector<__half> v(count);
    for (__half& e : v) e = __float2half(float(rng.Int(-8, 8)) / 8.0f);
    return v;
  };
  const std::vector<__half> a = draw(size_t(sa) * kBatch), b = draw(size_t(sb) * kBatch), c = draw(size_t(sc) * kBatch);
  const __half alpha = __float2half(0.5f), beta = __float2half(-1.0f);
  std::vector<Wide> want(c.size());
  for (int q = 0; q < kBatch; ++q)
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < m; ++i) {
        double acc = 0;
        for (int p = 0; p < k; ++p)
          acc += double(__half2float(a[q * sa + i + p * lda])) * double(__half2float(b[q * sb + p + j * ldb]));
        want[q * sc + i + j * ldc] = 0.5 * acc - double(__half2float(c[q * sc + i + j * ldc]));
      }
  auto check = [&](const std::vector<__half>& got, const char* what) {
    for (size_t i = 0; i < got.size(); ++i) {
      const double g = __half2float(got[i]);
      CHECKF(std::fabs(g - want[i].real()) <= 1e-2 * (1 + std::fabs(want[i].real())),
             "%s: element %zu is %g, expected %g", what, i, g, want[i].real());
    }
    std::vector<float> widened;
    for (const __half& e : got) widened.push_back(__half2float(e));
    sum.AddVector(widened);
  };
  {
    __half *da = rtest::ToDevice(a), *db = rtest::ToDevice(b), *dc = rtest::ToDevice(c);
    CUBLAS_CHECK(cublasHgemmStridedBatched(h, CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, &alpha, da, lda, sa, db, ldb, sb,
                                           &beta, dc, ldc, sc, kBatch));
    check(rtest::FromDevice(dc, c.size(), stream), "HgemmStridedBatched");
    for (__half* p : {da, db, dc}) CUDA_CHECK(cudaFree(p));
  }
  {
    __half *da = rtest::ToDevice(a), *db = rtest::ToDevice(b), *dc = rtest::ToDevice(c);
    std::vector<__half*> pa, pb, pc;
    for (int q = 0; q < kBatch; ++q) {
      pa.push_back(da + q * sa);
      pb.push_back(db + q * sb);
      pc.push_back(dc + q * sc);
    }
    __half **dpa = rtest::ToDevice(pa), **dpb = rtest::ToDevice(pb), **dpc = rtest::ToDevice(pc);
    CUBLAS_CHECK(cublasHgemmBatched(h, CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, &alpha, dpa, lda, dpb, ldb, &beta, dpc, ldc,
                                    kBatch));
    check(rtest::FromDevice(dc, c.size(), stream), "HgemmBatched");
    for (__half* p : {da, db, dc}) CUDA_CHECK(cudaFree(p));
    for (__half** p : {dpa, dpb, dpc}) CUDA_CHECK(cudaFree(p));
  }
}

}  // namespace

int main() {
  rtest::Rng rng = rtest::Init("cublas_batched");
  rtest::Checksum sum;
  {
    rtest::CublasOnStream blas;
    cublasHandle_t h = blas.handle();
    cudaStream_t stream = blas.stream();
    LuInverse<float>(h, stream, rng, sum);
    LuInverse<double>(h, stream, rng, sum);
    LuInverse<std::complex<float>>(h, stream, rng, sum);
    LuInverse<std::complex<double>>(h, stream, rng, sum);
    LuSolve<std::complex<float>>(h, stream, rng, sum);
    LuSolve<std::complex<double>>(h, stream, rng, sum);
    Products<std::complex<float>>(h, stream, rng, sum);
    Products<std::complex<double>>(h, stream, rng, sum);
    HalfGemms(h, stream, rng, sum);
  }
  return rtest::Pass(sum);
}
