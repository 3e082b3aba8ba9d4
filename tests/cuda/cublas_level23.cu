// cublas_level23: an unmodified cuBLAS program's BLAS beyond GEMM (linked
// with NVIDIA's libcublas.so.13; through rcuda it binds to rcuda's,
// client/libs/): in single and double precision, the level 1 extras (swap,
// asum, the extreme indices, rotations with host and device scalars), level
// 2 (ger, symv, trmv, trsv: both triangles, transposed, unit diagonals,
// negative increments) and level 3 (syrk, symm, the out-of-place trmm, dgmm),
// each against a host reference on a stream of the program's; and the
// functions cublas_gemm leaves to it: SCOPY/DCOPY, a program's workspace
// (cublasSetWorkspace), DGEMM strided batched, SMATINV batched; batched TRSM
// and GEMV (pointer arrays, strided). Catches an
// argument forwarded in the wrong order or kind, a range computed too small
// (the worker would refuse the call), a triangle read from the wrong side.
#include <cublas_v2.h>

#include <cmath>
#include <vector>

#include "cublas_test.h"
#include "device_vectors.h"

namespace {

using rtest::FromDevice;
using rtest::Random;
using rtest::ToDevice;
using rtest::Tolerance;

// The precision's functions, by overload.
cublasStatus_t Swap(cublasHandle_t h, int n, float* x, int ix, float* y, int iy) { return cublasSswap(h, n, x, ix, y, iy); }
cublasStatus_t Swap(cublasHandle_t h, int n, double* x, int ix, double* y, int iy) { return cublasDswap(h, n, x, ix, y, iy); }
cublasStatus_t Copy(cublasHandle_t h, int n, const float* x, int ix, float* y, int iy) { return cublasScopy(h, n, x, ix, y, iy); }
cublasStatus_t Copy(cublasHandle_t h, int n, const double* x, int ix, double* y, int iy) { return cublasDcopy(h, n, x, ix, y, iy); }
cublasStatus_t Asum(cublasHandle_t h, int n, const float* x, int ix, float* r) { return cublasSasum(h, n, x, ix, r); }
cublasStatus_t Asum(cublasHandle_t h, int n, const double* x, int ix, double* r) { return cublasDasum(h, n, x, ix, r); }
cublasStatus_t Amax(cublasHandle_t h, int n, const float* x, int ix, int* r) { return cublasIsamax(h, n, x, ix, r); }
cublasStatus_t Amax(cublasHandle_t h, int n, const double* x, int ix, int* r) { return cublasIdamax(h, n, x, ix, r); }
cublasStatus_t Amin(cublasHandle_t h, int n, const float* x, int ix, int* r) { return cublasIsamin(h, n, x, ix, r); }
cublasStatus_t Amin(cublasHandle_t h, int n, const double* x, int ix, int* r) { return cublasIdamin(h, n, x, ix, r); }
cublasStatus_t Rot(cublasHandle_t h, int n, float* x, int ix, float* y, int iy, const float* c, const float* s) {
  return cublasSrot(h, n, x, ix, y, iy, c, s);
}
cublasStatus_t Rot(cublasHandle_t h, int n, double* x, int ix, double* y, int iy, const double* c, const double* s) {
  return cublasDrot(h, n, x, ix, y, iy, c, s);
}
template <class T, class... A>
cublasStatus_t Ger(cublasHandle_t h, A... a) {
  if constexpr (sizeof(T) == 4) return cublasSger(h, a...);
  else return cublasDger(h, a...);
}
template <class T, class... A>
cublasStatus_t Symv(cublasHandle_t h, A... a) {
  if constexpr (sizeof(T) == 4) return cublasSsymv(h, a...);
  else return cublasDsymv(h, a...);
}
template <class T, class... A>
cublasStatus_t Trmv(cublasHandle_t h, A... a) {
  if constexpr (sizeof(T) == 4) return cublasStrmv(h, a...);
  else return cublasDtrmv(h, a...);
}
template <class T, class... A>
cublasStatus_t Trsv(cublasHandle_t h, A... a) {
  if constexpr (sizeof(T) == 4) return cublasStrsv(h, a...);
  else return cublasDtrsv(h, a...);
}
template <class T, class... A>
cublasStatus_t Syrk(cublasHandle_t h, A... a) {
  if constexpr (sizeof(T) == 4) return cublasSsyrk(h, a...);
  else return cublasDsyrk(h, a...);
}
template <class T, class... A>
cublasStatus_t Symm(cublasHandle_t h, A... a) {
  if constexpr (sizeof(T) == 4) return cublasSsymm(h, a...);
  else return cublasDsymm(h, a...);
}
template <class T, class... A>
cublasStatus_t Trmm(cublasHandle_t h, A... a) {
  if constexpr (sizeof(T) == 4) return cublasStrmm(h, a...);
  else return cublasDtrmm(h, a...);
}
template <class T, class... A>
cublasStatus_t Dgmm(cublasHandle_t h, A... a) {
  if constexpr (sizeof(T) == 4) return cublasSdgmm(h, a...);
  else return cublasDdgmm(h, a...);
}

template <class T, class... A>
cublasStatus_t TrsmBatched(cublasHandle_t h, A... a) {
  if constexpr (sizeof(T) == 4) return cublasStrsmBatched(h, a...);
  else return cublasDtrsmBatched(h, a...);
}
template <class T, class... A>
cublasStatus_t GemvBatched(cublasHandle_t h, A... a) {
  if constexpr (sizeof(T) == 4) return cublasSgemvBatched(h, a...);
  else return cublasDgemvBatched(h, a...);
}
template <class T, class... A>
cublasStatus_t GemvStridedBatched(cublasHandle_t h, A... a) {
  if constexpr (sizeof(T) == 4) return cublasSgemvStridedBatched(h, a...);
  else return cublasDgemvStridedBatched(h, a...);
}


template <class T>
void ExpectClose(const std::vector<T>& got, const std::vector<double>& want, const char* what) {
  CHECKF(got.size() == want.size(), "%s: sizes", what);
  for (size_t i = 0; i < got.size(); ++i) {
    CHECKF(std::fabs(double(got[i]) - want[i]) <= Tolerance<T>() * (1 + std::fabs(want[i])),
           "%s (%zu-byte): element %zu is %.9g, expected %.9g", what, sizeof(T), i, double(got[i]), want[i]);
  }
}

// BLAS vector indexing: a negative increment walks from the end.
long long At(int i, int n, int inc) { return inc >= 0 ? 1ll * i * inc : 1ll * (n - 1 - i) * -inc; }

// op(A)[r][c] of a triangular A.
template <class T>
double Tri(const std::vector<T>& a, int lda, bool lower, bool trans, bool unit, int r, int c) {
  const int rr = trans ? c : r, cc = trans ? r : c;
  if (rr == cc && unit) return 1.0;
  if (lower ? rr < cc : rr > cc) return 0.0;
  return a[rr + 1ll * cc * lda];
}

template <class T>
double Sym(const std::vector<T>& a, int lda, bool lower, int r, int c) {
  if (lower ? r < c : r > c) std::swap(r, c);
  return a[r + 1ll * c * lda];
}

// A triangular matrix safe to solve with: a dominant diagonal.
template <class T>
std::vector<T> Triangular(rtest::Rng& rng, int n, int lda) {
  std::vector<T> a = Random<T>(rng, size_t(lda) * n);
  for (int i = 0; i < n; ++i) a[i + 1ll * i * lda] = static_cast<T>(4 + rng.Double(0, 1));
  return a;
}

template <class T>
void Level1(cublasHandle_t h, cudaStream_t stream, rtest::Rng& rng, rtest::Checksum& sum) {
  const int n = 29;
  std::vector<T> x = Random<T>(rng, 2 * n), y = Random<T>(rng, 3 * n);
  x[2 * 17] = static_cast<T>(9.5);   // the largest magnitude, at index 18 (1-based)
  x[2 * 5] = static_cast<T>(0);      // the smallest, at 6
  T* dx = ToDevice(x);
  T* dy = ToDevice(y);
  int imax = 0, imin = 0;
  CUBLAS_CHECK(Amax(h, n, dx, 2, &imax));
  CUBLAS_CHECK(Amin(h, n, dx, 2, &imin));
  CHECKF(imax == 18 && imin == 6, "I?amax %d (expected 18), I?amin %d (expected 6)", imax, imin);
  T asum = 0;
  CUBLAS_CHECK(Asum(h, n, dx, 2, &asum));
  double want_asum = 0;
  for (int i = 0; i < n; ++i) want_asum += std::fabs(double(x[2 * i]));
  ExpectClose(std::vector<T>{asum}, {want_asum}, "?asum");
  // Rotate x (stride 2) against y (stride -3), host scalars.
  const T c = static_cast<T>(0.6), s = static_cast<T>(0.8);
  CUBLAS_CHECK(Rot(h, n, dx, 2, dy, -3, &c, &s));
  std::vector<double> wx(x.begin(), x.end()), wy(y.begin(), y.end());
  for (int i = 0; i < n; ++i) {
    const double a = x[2 * i], b = y[At(i, n, -3)];
    wx[2 * i] = c * a + s * b;
    wy[At(i, n, -3)] = -s * a + c * b;
  }
  ExpectClose(FromDevice(dx, x.size(), stream), wx, "?rot x");
  ExpectClose(FromDevice(dy, y.size(), stream), wy, "?rot y");
  // Again with device scalars (the handle's device pointer mode): undo it.
  std::vector<T> cs = {c, static_cast<T>(-s)};
  T* dcs = ToDevice(cs);
  CUBLAS_CHECK(cublasSetPointerMode(h, CUBLAS_POINTER_MODE_DEVICE));
  CUBLAS_CHECK(Rot(h, n, dx, 2, dy, -3, dcs, dcs + 1));
  CUBLAS_CHECK(cublasSetPointerMode(h, CUBLAS_POINTER_MODE_HOST));
  std::vector<double> ux(x.begin(), x.end()), uy(y.begin(), y.end());
  ExpectClose(FromDevice(dx, x.size(), stream), ux, "?rot undone x");
  ExpectClose(FromDevice(dy, y.size(), stream), uy, "?rot undone y");
  // Swap back and forth.
  CUBLAS_CHECK(Swap(h, n, dx, 2, dy, 3));
  std::vector<T> gx = FromDevice(dx, x.size(), stream), gy = FromDevice(dy, y.size(), stream);
  for (int i = 0; i < n; ++i) {
    CHECKF(std::fabs(double(gx[2 * i]) - double(y[3 * i])) <= Tolerance<T>() &&
               std::fabs(double(gy[3 * i]) - double(x[2 * i])) <= Tolerance<T>(),
           "?swap: element %d", i);
  }
  // Copy x (stride 2) over y (stride -3).
  CUBLAS_CHECK(Copy(h, n, dx, 2, dy, -3));
  gy = FromDevice(dy, y.size(), stream);
  for (int i = 0; i < n; ++i)
    CHECKF(gy[At(i, n, -3)] == gx[2 * i], "?copy: element %d is %g, expected %g", i, double(gy[At(i, n, -3)]),
           double(gx[2 * i]));
  sum.AddVector(gx);
  CUDA_CHECK(cudaFree(dx));
  CUDA_CHECK(cudaFree(dy));
  CUDA_CHECK(cudaFree(dcs));
}

// Batched TRSM (arrays of pointers; left, lower, then undone by TRMM on the
// host) and GEMV, by arrays of pointers and strided, over 3 batches.
template <class T>
void Batched(cublasHandle_t h, cudaStream_t stream, rtest::Rng& rng, rtest::Checksum& sum) {
  const int batch = 3, m = 6, n = 4, lda = 7, ldb = 8;
  const T alpha = static_cast<T>(0.5), beta = static_cast<T>(2);
  std::vector<std::vector<T>> a(batch), b(batch), x(batch), y(batch);
  std::vector<T*> da(batch), db(batch), dx(batch), dy(batch);
  for (int q = 0; q < batch; ++q) {
    a[q] = Triangular<T>(rng, m, lda);
    b[q] = Random<T>(rng, size_t(ldb) * n);
    x[q] = Random<T>(rng, n);
    y[q] = Random<T>(rng, m);
    da[q] = ToDevice(a[q]), db[q] = ToDevice(b[q]), dx[q] = ToDevice(x[q]), dy[q] = ToDevice(y[q]);
  }
  T** pa = ToDevice(da);
  T** pb = ToDevice(db);
  T** px = ToDevice(dx);
  T** py = ToDevice(dy);
  // op(A) X = alpha B for each batch: then op(A) X / alpha is B again.
  CUBLAS_CHECK(TrsmBatched<T>(h, CUBLAS_SIDE_LEFT, CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_N, CUBLAS_DIAG_NON_UNIT, m, n,
                              &alpha, const_cast<const T* const*>(pa), lda, pb, ldb, batch));
  for (int q = 0; q < batch; ++q) {
    const std::vector<T> got = FromDevice(db[q], b[q].size(), stream);
    std::vector<double> back(got.begin(), got.end()), want(b[q].begin(), b[q].end());
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < m; ++i) {
        double acc = 0;
        for (int p = 0; p < m; ++p) acc += Tri(a[q], lda, true, false, false, i, p) * got[p + size_t(j) * ldb];
        back[i + size_t(j) * ldb] = acc / alpha;
      }
    ExpectClose(std::vector<T>(back.begin(), back.end()), want, "?trsmBatched: op(A) X / alpha");
    sum.AddVector(got);
  }
  // y = alpha A x + beta y (A m x n), arrays of pointers.
  CUBLAS_CHECK(GemvBatched<T>(h, CUBLAS_OP_N, m, n, &alpha, const_cast<const T* const*>(pa), lda,
                              const_cast<const T* const*>(px), 1, &beta, py, 1, batch));
  for (int q = 0; q < batch; ++q) {
    std::vector<double> want(m);
    for (int i = 0; i < m; ++i) {
      double acc = 0;
      for (int j = 0; j < n; ++j) acc += double(a[q][i + size_t(j) * lda]) * x[q][j];
      want[i] = alpha * acc + beta * double(y[q][i]);
    }
    ExpectClose(FromDevice(dy[q], m, stream), want, "?gemvBatched");
  }
  // The same, strided: A^T x (x of m, y of n) over one allocation each.
  const long long sa = lda * n + 5, sx = m + 1, sy = n + 2;
  std::vector<T> as = Random<T>(rng, sa * batch), xs = Random<T>(rng, sx * batch), ys = Random<T>(rng, sy * batch);
  T *das = ToDevice(as), *dxs = ToDevice(xs), *dys = ToDevice(ys);
  CUBLAS_CHECK(GemvStridedBatched<T>(h, CUBLAS_OP_T, m, n, &alpha, static_cast<const T*>(das), lda, sa,
                                     static_cast<const T*>(dxs), 1, sx, &beta, dys, 1, sy, batch));
  std::vector<double> want(ys.begin(), ys.end());
  for (int q = 0; q < batch; ++q)
    for (int j = 0; j < n; ++j) {
      double acc = 0;
      for (int i = 0; i < m; ++i) acc += double(as[sa * q + i + size_t(j) * lda]) * xs[sx * q + i];
      want[sy * q + j] = alpha * acc + beta * double(ys[sy * q + j]);
    }
  const std::vector<T> got = FromDevice(dys, ys.size(), stream);
  ExpectClose(got, want, "?gemvStridedBatched (transposed)");
  sum.AddVector(got);
  for (int q = 0; q < batch; ++q)
    for (T* p : {da[q], db[q], dx[q], dy[q]}) CUDA_CHECK(cudaFree(p));
  for (void* p : {static_cast<void*>(pa), static_cast<void*>(pb), static_cast<void*>(px), static_cast<void*>(py),
                  static_cast<void*>(das), static_cast<void*>(dxs), static_cast<void*>(dys)})
    CUDA_CHECK(cudaFree(p));
}

// The rest of cublas_gemm's functions' twins: a workspace of the program's
// (cublasSetWorkspace) for a strided batched DGEMM, and SMATINV batched
// (A A^-1 == I).
void Extras(cublasHandle_t h, cudaStream_t stream, rtest::Rng& rng, rtest::Checksum& sum) {
  const size_t workspace_bytes = 1 << 20;
  void* workspace = nullptr;
  CUDA_CHECK(cudaMalloc(&workspace, workspace_bytes));
  CUBLAS_CHECK(cublasSetWorkspace(h, workspace, workspace_bytes));
  const int m = 5, n = 4, k = 3, batch = 3;
  const long long sa = m * k + 1, sb = k * n + 2, sc = m * n;
  std::vector<double> a = Random<double>(rng, sa * batch), b = Random<double>(rng, sb * batch);
  double *da = ToDevice(a), *db = ToDevice(b), *dc = ToDevice(std::vector<double>(sc * batch, 0.0));
  const double alpha = 2.0, beta = 0.0;
  CUBLAS_CHECK(cublasDgemmStridedBatched(h, CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, &alpha, da, m, sa, db, k, sb, &beta, dc,
                                         m, sc, batch));
  std::vector<double> want(sc * batch);
  for (int q = 0; q < batch; ++q)
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < m; ++i) {
        double acc = 0;
        for (int p = 0; p < k; ++p) acc += a[sa * q + i + p * m] * b[sb * q + p + j * k];
        want[sc * q + i + j * m] = alpha * acc;
      }
  std::vector<double> got = FromDevice(dc, want.size(), stream);
  ExpectClose(got, want, "DGEMM strided batched");
  sum.AddVector(got);
  // SMATINV: each of `batch` diagonally dominant 6 x 6 matrices inverted.
  const int order = 6;
  std::vector<std::vector<float>> mats(batch);
  std::vector<float*> dm(batch), dinv(batch);
  for (int q = 0; q < batch; ++q) {
    mats[q] = Random<float>(rng, order * order);
    for (int i = 0; i < order; ++i) mats[q][i + i * order] += order;
    dm[q] = ToDevice(mats[q]);
    dinv[q] = ToDevice(std::vector<float>(order * order, 0.0f));
  }
  float** pm = ToDevice(dm);
  float** pinv = ToDevice(dinv);
  int* infos = ToDevice(std::vector<int>(batch, -1));
  CUBLAS_CHECK(cublasSmatinvBatched(h, order, pm, order, pinv, order, infos, batch));
  const std::vector<int> info = FromDevice(infos, batch, stream);
  for (int q = 0; q < batch; ++q) {
    CHECKF(info[q] == 0, "SMATINV batched: info[%d] = %d", q, info[q]);
    const std::vector<float> inv = FromDevice(dinv[q], order * order, stream);
    std::vector<double> product(order * order), identity(order * order, 0.0);
    for (int j = 0; j < order; ++j) {
      identity[j + j * order] = 1.0;
      for (int i = 0; i < order; ++i)
        for (int p = 0; p < order; ++p) product[i + j * order] += double(mats[q][i + p * order]) * inv[p + j * order];
    }
    ExpectClose(std::vector<float>(product.begin(), product.end()), identity, "SMATINV batched: A A^-1");
    sum.AddVector(inv);
    CUDA_CHECK(cudaFree(dm[q]));
    CUDA_CHECK(cudaFree(dinv[q]));
  }
  for (void* p : {static_cast<void*>(pm), static_cast<void*>(pinv), static_cast<void*>(infos), static_cast<void*>(da),
                  static_cast<void*>(db), static_cast<void*>(dc)})
    CUDA_CHECK(cudaFree(p));
  CUBLAS_CHECK(cublasSetWorkspace(h, nullptr, 0));  // back to the library's own
  CUDA_CHECK(cudaFree(workspace));
}

template <class T>
void Level2(cublasHandle_t h, cudaStream_t stream, rtest::Rng& rng, rtest::Checksum& sum) {
  const int m = 11, n = 7, lda = 13;
  const T alpha = static_cast<T>(0.75), beta = static_cast<T>(-0.5);
  // ger: A += alpha x y^T, x with increment -2.
  std::vector<T> a = Random<T>(rng, size_t(lda) * n), x = Random<T>(rng, 2 * m), y = Random<T>(rng, n);
  T *da = ToDevice(a), *dx = ToDevice(x), *dy = ToDevice(y);
  CUBLAS_CHECK(Ger<T>(h, m, n, &alpha, static_cast<const T*>(dx), -2, static_cast<const T*>(dy), 1, da, lda));
  std::vector<double> want(a.begin(), a.end());
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < m; ++i) want[i + 1ll * j * lda] += alpha * double(x[At(i, m, -2)]) * y[j];
  ExpectClose(FromDevice(da, a.size(), stream), want, "?ger");
  CUDA_CHECK(cudaFree(da));
  CUDA_CHECK(cudaFree(dx));
  CUDA_CHECK(cudaFree(dy));
  // symv, trmv, trsv on an n x n matrix, each triangle.
  for (bool lower : {true, false}) {
    const cublasFillMode_t uplo = lower ? CUBLAS_FILL_MODE_LOWER : CUBLAS_FILL_MODE_UPPER;
    std::vector<T> s = Triangular<T>(rng, n, lda), v = Random<T>(rng, n), w = Random<T>(rng, 3 * n);
    T *ds = ToDevice(s), *dv = ToDevice(v), *dw = ToDevice(w);
    CUBLAS_CHECK(Symv<T>(h, uplo, n, &alpha, static_cast<const T*>(ds), lda, static_cast<const T*>(dv), 1, &beta, dw, 3));
    std::vector<double> want_w(w.begin(), w.end());
    for (int i = 0; i < n; ++i) {
      double acc = 0;
      for (int j = 0; j < n; ++j) acc += Sym(s, lda, lower, i, j) * v[j];
      want_w[3 * i] = alpha * acc + beta * double(w[3 * i]);
    }
    ExpectClose(FromDevice(dw, w.size(), stream), want_w, "?symv");
    for (bool trans : {false, true}) {
      for (bool unit : {false, true}) {
        const cublasOperation_t op = trans ? CUBLAS_OP_T : CUBLAS_OP_N;
        const cublasDiagType_t diag = unit ? CUBLAS_DIAG_UNIT : CUBLAS_DIAG_NON_UNIT;
        CUDA_CHECK(cudaMemcpy(dv, v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice));
        CUBLAS_CHECK(Trmv<T>(h, uplo, op, diag, n, static_cast<const T*>(ds), lda, dv, 1));
        std::vector<double> want_v(n);
        for (int i = 0; i < n; ++i)
          for (int j = 0; j < n; ++j) want_v[i] += Tri(s, lda, lower, trans, unit, i, j) * v[j];
        ExpectClose(FromDevice(dv, v.size(), stream), want_v, "?trmv");
        // trsv undoes trmv.
        CUBLAS_CHECK(Trsv<T>(h, uplo, op, diag, n, static_cast<const T*>(ds), lda, dv, 1));
        ExpectClose(FromDevice(dv, v.size(), stream), std::vector<double>(v.begin(), v.end()), "?trsv");
      }
    }
    sum.AddVector(FromDevice(dw, w.size(), stream));
    CUDA_CHECK(cudaFree(ds));
    CUDA_CHECK(cudaFree(dv));
    CUDA_CHECK(cudaFree(dw));
  }
}

template <class T>
void Level3(cublasHandle_t h, cudaStream_t stream, rtest::Rng& rng, rtest::Checksum& sum) {
  const int m = 9, n = 6, k = 5, ld = 12;
  const T alpha = static_cast<T>(1.25), beta = static_cast<T>(0.5);
  for (bool lower : {true, false}) {
    const cublasFillMode_t uplo = lower ? CUBLAS_FILL_MODE_LOWER : CUBLAS_FILL_MODE_UPPER;
    // syrk: C (n x n, the triangle) = alpha op(A) op(A)^T + beta C; op(A) n x k.
    for (bool trans : {false, true}) {
      std::vector<T> a = Random<T>(rng, size_t(ld) * (trans ? n : k)), c = Random<T>(rng, size_t(ld) * n);
      T *da = ToDevice(a), *dc = ToDevice(c);
      CUBLAS_CHECK(Syrk<T>(h, uplo, trans ? CUBLAS_OP_T : CUBLAS_OP_N, n, k, &alpha, static_cast<const T*>(da), ld,
                           &beta, dc, ld));
      auto op = [&](int r, int p) { return double(trans ? a[p + 1ll * r * ld] : a[r + 1ll * p * ld]); };
      std::vector<double> want(c.begin(), c.end());
      for (int j = 0; j < n; ++j)
        for (int i = 0; i < n; ++i) {
          if (lower ? i < j : i > j) continue;  // the other triangle is untouched
          double acc = 0;
          for (int p = 0; p < k; ++p) acc += op(i, p) * op(j, p);
          want[i + 1ll * j * ld] = alpha * acc + beta * double(c[i + 1ll * j * ld]);
        }
      ExpectClose(FromDevice(dc, c.size(), stream), want, "?syrk");
      CUDA_CHECK(cudaFree(da));
      CUDA_CHECK(cudaFree(dc));
    }
    for (bool left : {true, false}) {
      const cublasSideMode_t side = left ? CUBLAS_SIDE_LEFT : CUBLAS_SIDE_RIGHT;
      const int ka = left ? m : n;
      std::vector<T> a = Triangular<T>(rng, ka, ld), b = Random<T>(rng, size_t(ld) * n), c = Random<T>(rng, size_t(ld) * n);
      T *da = ToDevice(a), *db = ToDevice(b), *dc = ToDevice(c);
      // symm: C = alpha A B + beta C (left), alpha B A + beta C (right).
      CUBLAS_CHECK(Symm<T>(h, side, uplo, m, n, &alpha, static_cast<const T*>(da), ld, static_cast<const T*>(db), ld,
                           &beta, dc, ld));
      std::vector<double> want(c.begin(), c.end());
      for (int j = 0; j < n; ++j)
        for (int i = 0; i < m; ++i) {
          double acc = 0;
          for (int p = 0; p < ka; ++p)
            acc += left ? Sym(a, ld, lower, i, p) * b[p + 1ll * j * ld] : b[i + 1ll * p * ld] * Sym(a, ld, lower, p, j);
          want[i + 1ll * j * ld] = alpha * acc + beta * double(c[i + 1ll * j * ld]);
        }
      ExpectClose(FromDevice(dc, c.size(), stream), want, "?symm");
      // trmm (out of place): C = alpha op(A) B or alpha B op(A).
      for (bool trans : {false, true}) {
        CUBLAS_CHECK(Trmm<T>(h, side, uplo, trans ? CUBLAS_OP_T : CUBLAS_OP_N, CUBLAS_DIAG_NON_UNIT, m, n, &alpha,
                             static_cast<const T*>(da), ld, static_cast<const T*>(db), ld, dc, ld));
        std::vector<double> want_t(c.size());
        std::vector<T> got = FromDevice(dc, c.size(), stream);
        for (size_t e = 0; e < c.size(); ++e) want_t[e] = got[e];  // rows past m: whatever symm left
        for (int j = 0; j < n; ++j)
          for (int i = 0; i < m; ++i) {
            double acc = 0;
            for (int p = 0; p < ka; ++p)
              acc += left ? Tri(a, ld, lower, trans, false, i, p) * b[p + 1ll * j * ld]
                          : b[i + 1ll * p * ld] * Tri(a, ld, lower, trans, false, p, j);
            want_t[i + 1ll * j * ld] = alpha * acc;
          }
        ExpectClose(got, want_t, "?trmm");
      }
      // dgmm: C = diag(x) A (left, x of m, increment 2) or A diag(x) (right, x of n, increment -1).
      std::vector<T> x = Random<T>(rng, 2 * m);
      T* dx = ToDevice(x);
      const int incx = left ? 2 : -1;
      CUBLAS_CHECK(Dgmm<T>(h, side, m, n, static_cast<const T*>(db), ld, static_cast<const T*>(dx), incx, dc, ld));
      std::vector<T> got = FromDevice(dc, c.size(), stream);
      std::vector<double> want_d(got.begin(), got.end());
      for (int j = 0; j < n; ++j)
        for (int i = 0; i < m; ++i)
          want_d[i + 1ll * j * ld] = double(b[i + 1ll * j * ld]) * x[left ? At(i, m, incx) : At(j, n, incx)];
      ExpectClose(got, want_d, "?dgmm");
      sum.AddVector(got);
      CUDA_CHECK(cudaFree(da));
      CUDA_CHECK(cudaFree(db));
      CUDA_CHECK(cudaFree(dc));
      CUDA_CHECK(cudaFree(dx));
    }
  }
}

}  // namespace

int main() {
  rtest::Rng rng = rtest::Init("cublas_level23");
  rtest::Checksum sum;
  {
    rtest::CublasOnStream blas;
    cublasHandle_t h = blas.handle();
    cudaStream_t stream = blas.stream();
    Level1<float>(h, stream, rng, sum);
    Level1<double>(h, stream, rng, sum);
    Level2<float>(h, stream, rng, sum);
    Level2<double>(h, stream, rng, sum);
    Level3<float>(h, stream, rng, sum);
    Level3<double>(h, stream, rng, sum);
    Batched<float>(h, stream, rng, sum);
    Batched<double>(h, stream, rng, sum);
    Extras(h, stream, rng, sum);
  }
  return rtest::Pass(sum);
}
