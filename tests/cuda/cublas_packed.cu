// cublas_packed: an unmodified cuBLAS program with packed matrices (linked
// with NVIDIA's libcublas.so.13; through rcuda it binds to rcuda's,
// client/libs/): in S and D, SPMV (upper), SPR (lower), TPMV (lower,
// transposed) and TPSV (upper, unit diagonal); in C and Z, HPMV (lower) and
// HER2 (upper, a full matrix's triangle, the other left as it was); against
// host references in double precision. Catches a packed matrix sized or
// indexed as a full one, a lost transpose or conjugation.
#include <cublas_v2.h>

#include <cmath>
#include <complex>
#include <vector>

#include "cublas_test.h"
#include "device_vectors.h"

namespace {

using rtest::Cu;
using rtest::Wide;

template <class T>
struct Real;
template <>
struct Real<float> {
  template <class... A> static cublasStatus_t Spmv(A... a) { return cublasSspmv(a...); }
  template <class... A> static cublasStatus_t Spr(A... a) { return cublasSspr(a...); }
  template <class... A> static cublasStatus_t Tpmv(A... a) { return cublasStpmv(a...); }
  template <class... A> static cublasStatus_t Tpsv(A... a) { return cublasStpsv(a...); }
};
template <>
struct Real<double> {
  template <class... A> static cublasStatus_t Spmv(A... a) { return cublasDspmv(a...); }
  template <class... A> static cublasStatus_t Spr(A... a) { return cublasDspr(a...); }
  template <class... A> static cublasStatus_t Tpmv(A... a) { return cublasDtpmv(a...); }
  template <class... A> static cublasStatus_t Tpsv(A... a) { return cublasDtpsv(a...); }
};
template <class C>
struct Complex;
template <>
struct Complex<std::complex<float>> {
  template <class... A> static cublasStatus_t Hpmv(A... a) { return cublasChpmv(a...); }
  template <class... A> static cublasStatus_t Her2(A... a) { return cublasCher2(a...); }
};
template <>
struct Complex<std::complex<double>> {
  template <class... A> static cublasStatus_t Hpmv(A... a) { return cublasZhpmv(a...); }
  template <class... A> static cublasStatus_t Her2(A... a) { return cublasZher2(a...); }
};

// The index of element (i, j) of a packed n x n triangle.
long long Packed(bool lower, int n, int i, int j) {
  return lower ? i + (2ll * n - j - 1) * j / 2 : i + 1ll * j * (j + 1) / 2;
}

template <class T>
void Reals(cublasHandle_t h, cudaStream_t stream, rtest::Rng& rng, rtest::Checksum& sum) {
  using B = Real<T>;
  const int n = 7, incx = 2, packed = n * (n + 1) / 2;
  std::vector<T> ap(packed), x(1 + (n - 1) * incx), y(n);
  for (auto& v : ap) v = T(rng.Double(-1, 1));
  for (auto& v : x) v = T(rng.Double(-1, 1));
  for (auto& v : y) v = T(rng.Double(-1, 1));
  const T alpha = T(0.75), beta = T(-1.5);
  // SPMV, upper: y = alpha A x + beta y.
  {
    auto *dap = rtest::ToDevice(ap), *dx = rtest::ToDevice(x), *dy = rtest::ToDevice(y);
    CUBLAS_CHECK(B::Spmv(h, CUBLAS_FILL_MODE_UPPER, n, &alpha, dap, dx, incx, &beta, dy, 1));
    std::vector<double> want(n);
    for (int i = 0; i < n; ++i) {
      double acc = 0;
      for (int j = 0; j < n; ++j) acc += double(ap[Packed(false, n, std::min(i, j), std::max(i, j))]) * x[j * incx];
      want[i] = alpha * acc + beta * double(y[i]);
    }
    auto got = rtest::FromDevice(dy, n, stream);
    rtest::ExpectNear(got, rtest::Widen(want), "SPMV (upper)");
    sum.AddVector(got);
    CUDA_CHECK(cudaFree(dap));
    CUDA_CHECK(cudaFree(dx));
    CUDA_CHECK(cudaFree(dy));
  }
  // SPR, lower: A = alpha x x^T + A.
  {
    auto *dap = rtest::ToDevice(ap), *dx = rtest::ToDevice(x);
    CUBLAS_CHECK(B::Spr(h, CUBLAS_FILL_MODE_LOWER, n, &alpha, dx, incx, dap));
    std::vector<double> want(ap.begin(), ap.end());
    for (int j = 0; j < n; ++j)
      for (int i = j; i < n; ++i) want[Packed(true, n, i, j)] += double(alpha) * x[i * incx] * x[j * incx];
    auto got = rtest::FromDevice(dap, packed, stream);
    rtest::ExpectNear(got, rtest::Widen(want), "SPR (lower)");
    sum.AddVector(got);
    CUDA_CHECK(cudaFree(dap));
    CUDA_CHECK(cudaFree(dx));
  }
  // TPMV, lower, transposed, non-unit: x = A^T x; TPSV, upper, unit: x = A^-1 x.
  for (int solve = 0; solve < 2; ++solve) {
    const bool lower = !solve;
    // A diagonally dominant triangle, so that the solve is well conditioned.
    std::vector<T> tri = ap;
    for (int i = 0; i < n; ++i) tri[Packed(lower, n, i, i)] = T(4 + i);
    auto *dap = rtest::ToDevice(tri), *dx = rtest::ToDevice(x);
    if (solve) {
      CUBLAS_CHECK(B::Tpsv(h, CUBLAS_FILL_MODE_UPPER, CUBLAS_OP_N, CUBLAS_DIAG_UNIT, n, dap, dx, incx));
    } else {
      CUBLAS_CHECK(B::Tpmv(h, CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_T, CUBLAS_DIAG_NON_UNIT, n, dap, dx, incx));
    }
    std::vector<double> v(n), out(n);
    for (int i = 0; i < n; ++i) v[i] = x[i * incx];
    if (!solve) {
      for (int i = 0; i < n; ++i)
        for (int j = i; j < n; ++j) out[i] += double(tri[Packed(true, n, j, i)]) * v[j];  // (A^T)[i][j] = A[j][i]
    } else {
      for (int i = n - 1; i >= 0; --i) {
        double s = v[i];
        for (int j = i + 1; j < n; ++j) s -= double(tri[Packed(false, n, i, j)]) * out[j];
        out[i] = s;  // unit diagonal
      }
    }
    auto got = rtest::FromDevice(dx, x.size(), stream);
    std::vector<double> want(x.begin(), x.end());
    for (int i = 0; i < n; ++i) want[i * incx] = out[i];
    rtest::ExpectNear(got, rtest::Widen(want), solve ? "TPSV (upper, unit)" : "TPMV (lower, transposed)");
    sum.AddVector(got);
    CUDA_CHECK(cudaFree(dap));
    CUDA_CHECK(cudaFree(dx));
  }
}

template <class C>
void Complexes(cublasHandle_t h, cudaStream_t stream, rtest::Rng& rng, rtest::Checksum& sum) {
  using B = Complex<C>;
  const int n = 6, incx = 1, incy = 2, lda = 8, packed = n * (n + 1) / 2;
  auto random = [&](size_t count) { return rtest::Random<C>(rng, count); };
  std::vector<C> ap = random(packed), x = random(n), y = random(1 + (n - 1) * incy), a = random(lda * n);
  const C alpha(0.5, -1.25), beta(-0.75, 0.5);
  // HPMV, lower: y = alpha A x + beta y (A's diagonal read real).
  {
    auto *dap = rtest::ToDevice(ap), *dx = rtest::ToDevice(x), *dy = rtest::ToDevice(y);
    CUBLAS_CHECK(B::Hpmv(h, CUBLAS_FILL_MODE_LOWER, n, Cu(&alpha), Cu(dap),
                         Cu(dx), incx, Cu(&beta), Cu(dy), incy));
    std::vector<Wide> want(y.begin(), y.end());
    for (int i = 0; i < n; ++i) {
      Wide acc = 0;
      for (int j = 0; j < n; ++j) {
        const Wide e = i == j ? Wide(ap[Packed(true, n, i, i)].real(), 0)
                       : i > j ? Wide(ap[Packed(true, n, i, j)])
                               : std::conj(Wide(ap[Packed(true, n, j, i)]));
        acc += e * Wide(x[j * incx]);
      }
      want[i * incy] = Wide(alpha) * acc + Wide(beta) * Wide(y[i * incy]);
    }
    auto got = rtest::FromDevice(dy, y.size(), stream);
    rtest::ExpectNear(got, want, "HPMV (lower)");
    sum.AddVector(got);
    CUDA_CHECK(cudaFree(dap));
    CUDA_CHECK(cudaFree(dx));
    CUDA_CHECK(cudaFree(dy));
  }
  // HER2, upper: A = alpha x y^H + conj(alpha) y x^H + A, the lower part kept.
  {
    auto *da = rtest::ToDevice(a), *dx = rtest::ToDevice(x), *dy = rtest::ToDevice(y);
    CUBLAS_CHECK(B::Her2(h, CUBLAS_FILL_MODE_UPPER, n, Cu(&alpha), Cu(dx), incx,
                         Cu(dy), incy, Cu(da), lda));
    std::vector<Wide> want(a.begin(), a.end());
    for (int j = 0; j < n; ++j)
      for (int i = 0; i <= j; ++i) {
        Wide& out = want[i + 1ll * j * lda];
        const Wide xi(x[i * incx]), xj(x[j * incx]), yi(y[i * incy]), yj(y[j * incy]);
        out = (i == j ? Wide(out.real(), 0) : out) + Wide(alpha) * xi * std::conj(yj) +
              std::conj(Wide(alpha)) * yi * std::conj(xj);
        if (i == j) out = Wide(out.real(), 0);
      }
    auto got = rtest::FromDevice(da, a.size(), stream);
    rtest::ExpectNear(got, want, "HER2 (upper)");
    sum.AddVector(got);
    CUDA_CHECK(cudaFree(da));
    CUDA_CHECK(cudaFree(dx));
    CUDA_CHECK(cudaFree(dy));
  }
}

}  // namespace

int main() {
  rtest::Rng rng = rtest::Init("cublas_packed");
  rtest::Checksum sum;
  {
    rtest::CublasOnStream blas;
    cublasHandle_t h = blas.handle();
    cudaStream_t stream = blas.stream();
    Reals<float>(h, stream, rng, sum);
    Reals<double>(h, stream, rng, sum);
    Complexes<std::complex<float>>(h, stream, rng, sum);
    Complexes<std::complex<double>>(h, stream, rng, sum);
  }
  return rtest::Pass(sum);
}
