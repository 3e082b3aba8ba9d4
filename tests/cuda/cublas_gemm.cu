// cublas_gemm: an unmodified cuBLAS program (linked with NVIDIA's
// libcublas.so.13; through rcuda it binds to rcuda's, client/libs/). SGEMM
// (op(B) transposed), DGEMM, HGEMM, strided batched SGEMM, GemmEx in three
// type combinations, the batched GEMMs (strided Ex; S, D and Ex by arrays of
// device pointers), SAXPY, SSCAL, SDOT and SNRM2 in both pointer modes,
// their double twins, copies, swaps, ASUM, ISAMAX, GEMV, TRSM, GEAM, and
// batched LU factorizations, solves and inverses, on a
// stream of the program's, against a host reference; the handle's stream, pointer mode, math mode and version read
// back. Catches arguments forwarded in the wrong order or kind, scalars read
// in the wrong pointer mode, results that do not come back, work run off its
// stream.
// With --session-checks (the remote runs: rcuda's worker checks what the
// native library does not): a vector outside the program's memory, a
// made-up handle, an unknown function id and too many handles are refused
// with the library's status, and the session still serves afterwards.
#include <cublas_v2.h>
#include <cuda_fp16.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "library_session.h"
#include "device_vectors.h"
#include "test_util.h"

#define CUBLAS_CHECK(call) RTEST_LIBRARY_CHECK("cuBLAS", call)
#define CUBLAS_EXPECT(call, expected) RTEST_LIBRARY_EXPECT("cuBLAS", call, expected)

namespace {

using rtest::FromDevice;
using rtest::ToDevice;

template <class T>
void RandomFill(rtest::Rng& rng, std::vector<T>& v) {
  for (T& x : v) x = static_cast<T>(rng.Double(-1.0, 1.0));
}

// Column-major reference: C = alpha * op(A) op(B) + beta * C.
template <class T>
void ReferenceGemm(bool ta, bool tb, int m, int n, int k, T alpha, const T* A, int lda, const T* B, int ldb, T beta,
                   T* C, int ldc) {
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < m; ++i) {
      double sum = 0;
      for (int p = 0; p < k; ++p) {
        double a = ta ? A[p + i * lda] : A[i + p * lda];
        double b = tb ? B[j + p * ldb] : B[p + j * ldb];
        sum += a * b;
      }
      C[i + j * ldc] = static_cast<T>(alpha * sum + beta * C[i + j * ldc]);
    }
}

template <class T>
void ExpectClose(const std::vector<T>& got, const std::vector<T>& want, double tolerance, const char* what) {
  CHECKF(got.size() == want.size(), "%s: sizes", what);
  for (size_t i = 0; i < got.size(); ++i) {
    CHECKF(std::fabs(double(got[i]) - double(want[i])) <= tolerance * (1 + std::fabs(double(want[i]))),
           "%s: element %zu is %g, expected %g", what, i, double(got[i]), double(want[i]));
  }
}

void Gemms(cublasHandle_t h, cudaStream_t stream, rtest::Rng& rng, rtest::Checksum& sum) {
  // SGEMM, C = 1.5 A B^T + 0.5 C; A 5x3 (lda 6), B 4x3 (ldb 4), C 5x4 (ldc 5).
  const int m = 5, n = 4, k = 3, lda = 6, ldb = 4, ldc = 5;
  std::vector<float> A(lda * k), B(ldb * k), C(ldc * n);
  RandomFill(rng, A), RandomFill(rng, B), RandomFill(rng, C);
  float *dA = ToDevice(A), *dB = ToDevice(B), *dC = ToDevice(C);
  const float alpha = 1.5f, beta = 0.5f;
  CUBLAS_CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_T, m, n, k, &alpha, dA, lda, dB, ldb, &beta, dC, ldc));
  CUDA_CHECK(cudaStreamSynchronize(stream));
  ReferenceGemm(false, true, m, n, k, alpha, A.data(), lda, B.data(), ldb, beta, C.data(), ldc);
  std::vector<float> got = FromDevice(dC, C.size());
  ExpectClose(got, C, 1e-5, "SGEMM");
  sum.Add(got.data(), got.size() * sizeof(float));
  CUDA_CHECK(cudaFree(dA));
  CUDA_CHECK(cudaFree(dB));
  CUDA_CHECK(cudaFree(dC));

  // DGEMM, A^T B: A 3x4 (k x m), B 3x2.
  std::vector<double> dAh(3 * 4), dBh(3 * 2), dCh(4 * 2);
  RandomFill(rng, dAh), RandomFill(rng, dBh), RandomFill(rng, dCh);
  double *ddA = ToDevice(dAh), *ddB = ToDevice(dBh), *ddC = ToDevice(dCh);
  const double dalpha = -2.0, dbeta = 0.0;
  CUBLAS_CHECK(cublasDgemm(h, CUBLAS_OP_T, CUBLAS_OP_N, 4, 2, 3, &dalpha, ddA, 3, ddB, 3, &dbeta, ddC, 4));
  CUDA_CHECK(cudaStreamSynchronize(stream));
  ReferenceGemm(true, false, 4, 2, 3, dalpha, dAh.data(), 3, dBh.data(), 3, dbeta, dCh.data(), 4);
  std::vector<double> dgot = FromDevice(ddC, dCh.size());
  ExpectClose(dgot, dCh, 1e-12, "DGEMM");
  sum.Add(dgot.data(), dgot.size() * sizeof(double));
  CUDA_CHECK(cudaFree(ddA));
  CUDA_CHECK(cudaFree(ddB));
  CUDA_CHECK(cudaFree(ddC));

  // Strided batched SGEMM: 3 batches of 4x4 = 4x2 * 2x4, strides with gaps.
  const int batch = 3, sA = 10, sB = 9, sC = 17;
  std::vector<float> bA(sA * batch), bB(sB * batch), bC(sC * batch);
  RandomFill(rng, bA), RandomFill(rng, bB), RandomFill(rng, bC);
  float *dbA = ToDevice(bA), *dbB = ToDevice(bB), *dbC = ToDevice(bC);
  const float balpha = 0.75f, bbeta = 2.0f;
  CUBLAS_CHECK(cublasSgemmStridedBatched(h, CUBLAS_OP_N, CUBLAS_OP_N, 4, 4, 2, &balpha, dbA, 4, sA, dbB, 2, sB,
                                         &bbeta, dbC, 4, sC, batch));
  CUDA_CHECK(cudaStreamSynchronize(stream));
  for (int b = 0; b < batch; ++b) {
    ReferenceGemm(false, false, 4, 4, 2, balpha, bA.data() + b * sA, 4, bB.data() + b * sB, 2, bbeta,
                  bC.data() + b * sC, 4);
  }
  std::vector<float> bgot = FromDevice(dbC, bC.size());
  ExpectClose(bgot, bC, 1e-5, "strided batched SGEMM");
  sum.Add(bgot.data(), bgot.size() * sizeof(float));
  CUDA_CHECK(cudaFree(dbA));
  CUDA_CHECK(cudaFree(dbB));
  CUDA_CHECK(cudaFree(dbC));
}

// HGEMM on small integers, which half precision holds exactly.
void Hgemm(cublasHandle_t h, cudaStream_t stream, rtest::Rng& rng, rtest::Checksum& sum) {
  const int m = 3, n = 2, k = 4;
  std::vector<float> A(m * k), B(k * n), C(m * n, 0.0f);
  for (float& x : A) x = static_cast<float>(rng.Int(-4, 4));
  for (float& x : B) x = static_cast<float>(rng.Int(-4, 4));
  std::vector<__half> hA(A.size()), hB(B.size()), hC(C.size(), __float2half(0.0f));
  for (size_t i = 0; i < A.size(); ++i) hA[i] = __float2half(A[i]);
  for (size_t i = 0; i < B.size(); ++i) hB[i] = __float2half(B[i]);
  __half *dA = ToDevice(hA), *dB = ToDevice(hB), *dC = ToDevice(hC);
  const __half alpha = __float2half(2.0f), beta = __float2half(0.0f);
  CUBLAS_CHECK(cublasHgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, &alpha, dA, m, dB, k, &beta, dC, m));
  CUDA_CHECK(cudaStreamSynchronize(stream));
  ReferenceGemm(false, false, m, n, k, 2.0f, A.data(), m, B.data(), k, 0.0f, C.data(), m);
  std::vector<__half> got = FromDevice(dC, hC.size());
  std::vector<float> got_f(got.size());
  for (size_t i = 0; i < got.size(); ++i) got_f[i] = __half2float(got[i]);
  ExpectClose(got_f, C, 0.0, "HGEMM");
  sum.Add(got_f.data(), got_f.size() * sizeof(float));
  CUDA_CHECK(cudaFree(dA));
  CUDA_CHECK(cudaFree(dB));
  CUDA_CHECK(cudaFree(dC));
}

// An array of device pointers, in device memory (the batched GEMMs' Aarray).
template <class T>
T** DevicePointers(const std::vector<T*>& pointers) {
  T** d = nullptr;
  CUDA_CHECK(cudaMalloc(&d, pointers.size() * sizeof(T*)));
  CUDA_CHECK(cudaMemcpy(d, pointers.data(), pointers.size() * sizeof(T*), cudaMemcpyHostToDevice));
  return d;
}

std::vector<__half> ToHalf(const std::vector<float>& v) {
  std::vector<__half> h(v.size());
  for (size_t i = 0; i < v.size(); ++i) h[i] = __float2half(v[i]);
  return h;
}

std::vector<float> SmallIntegers(rtest::Rng& rng, size_t n) {
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(rng.Int(-4, 4));
  return v;
}

// cublasGemmEx in three type combinations (single; half inputs with a
// single-precision C; half throughout, half compute), the half ones on small
// integers that half precision holds exactly; the single one once with the
// scalars in device memory.
void GemmEx(cublasHandle_t h, cudaStream_t stream, rtest::Rng& rng, rtest::Checksum& sum) {
  const int m = 4, n = 3, k = 5;
  for (bool device_mode : {false, true}) {
    std::vector<float> A(m * k), B(k * n), C(m * n);
    RandomFill(rng, A), RandomFill(rng, B), RandomFill(rng, C);
    float *dA = ToDevice(A), *dB = ToDevice(B), *dC = ToDevice(C);
    const float scalars[2] = {-0.5f, 1.25f};
    float* d_scalars = nullptr;
    if (device_mode) {
      CUDA_CHECK(cudaMalloc(&d_scalars, sizeof scalars));
      CUDA_CHECK(cudaMemcpy(d_scalars, scalars, sizeof scalars, cudaMemcpyHostToDevice));
      CUBLAS_CHECK(cublasSetPointerMode(h, CUBLAS_POINTER_MODE_DEVICE));
    }
    const float* p = device_mode ? d_scalars : scalars;
    CUBLAS_CHECK(cublasGemmEx(h, CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, p, dA, CUDA_R_32F, m, dB, CUDA_R_32F, k, p + 1,
                              dC, CUDA_R_32F, m, CUBLAS_COMPUTE_32F_PEDANTIC, CUBLAS_GEMM_DEFAULT));
    CUDA_CHECK(cudaStreamSynchronize(stream));
    CUBLAS_CHECK(cublasSetPointerMode(h, CUBLAS_POINTER_MODE_HOST));
    ReferenceGemm(false, false, m, n, k, scalars[0], A.data(), m, B.data(), k, scalars[1], C.data(), m);
    std::vector<float> got = FromDevice(dC, C.size());
    ExpectClose(got, C, 1e-5, device_mode ? "GemmEx FP32 (device mode)" : "GemmEx FP32");
    sum.Add(got.data(), got.size() * sizeof(float));
    CUDA_CHECK(cudaFree(dA));
    CUDA_CHECK(cudaFree(dB));
    CUDA_CHECK(cudaFree(dC));
    if (d_scalars != nullptr) CUDA_CHECK(cudaFree(d_scalars));
  }

  // Half A and B, single C, single compute: C = 2 A^T B + C.
  std::vector<float> A = SmallIntegers(rng, k * m), B = SmallIntegers(rng, k * n), C = SmallIntegers(rng, m * n);
  __half *dA = ToDevice(ToHalf(A)), *dB = ToDevice(ToHalf(B));
  float* dC = ToDevice(C);
  const float two = 2.0f, one = 1.0f;
  CUBLAS_CHECK(cublasGemmEx(h, CUBLAS_OP_T, CUBLAS_OP_N, m, n, k, &two, dA, CUDA_R_16F, k, dB, CUDA_R_16F, k, &one,
                            dC, CUDA_R_32F, m, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
  CUDA_CHECK(cudaStreamSynchronize(stream));
  ReferenceGemm(true, false, m, n, k, 2.0f, A.data(), k, B.data(), k, 1.0f, C.data(), m);
  std::vector<float> got = FromDevice(dC, C.size());
  ExpectClose(got, C, 0.0, "GemmEx FP16 in, FP32 out");
  sum.Add(got.data(), got.size() * sizeof(float));
  CUDA_CHECK(cudaFree(dC));

  // Half throughout, half compute (alpha and beta are halves): C = 3 A^T B.
  std::vector<float> C16(m * n, 0.0f);
  __half* dC16 = ToDevice(ToHalf(C16));
  const __half three = __float2half(3.0f), zero = __float2half(0.0f);
  CUBLAS_CHECK(cublasGemmEx(h, CUBLAS_OP_T, CUBLAS_OP_N, m, n, k, &three, dA, CUDA_R_16F, k, dB, CUDA_R_16F, k,
                            &zero, dC16, CUDA_R_16F, m, CUBLAS_COMPUTE_16F, CUBLAS_GEMM_DEFAULT));
  CUDA_CHECK(cudaStreamSynchronize(stream));
  ReferenceGemm(true, false, m, n, k, 3.0f, A.data(), k, B.data(), k, 0.0f, C16.data(), m);
  std::vector<__half> got16 = FromDevice(dC16, C16.size());
  std::vector<float> got16f(got16.size());
  for (size_t i = 0; i < got16.size(); ++i) got16f[i] = __half2float(got16[i]);
  ExpectClose(got16f, C16, 0.0, "GemmEx FP16 (half compute)");
  sum.Add(got16f.data(), got16f.size() * sizeof(float));
  CUDA_CHECK(cudaFree(dA));
  CUDA_CHECK(cudaFree(dB));
  CUDA_CHECK(cudaFree(dC16));
}

// The batched GEMMs: cublasGemmStridedBatchedEx in double precision, and by
// arrays of device pointers cublasSgemmBatched, cublasDgemmBatched and cublasGemmBatchedEx (half in,
// single out).
void BatchedGemms(cublasHandle_t h, cudaStream_t stream, rtest::Rng& rng, rtest::Checksum& sum) {
  const int m = 3, n = 2, k = 4, batch = 3, stride = 16;
  {
    std::vector<double> A(stride * batch), B(stride * batch), C(stride * batch);
    RandomFill(rng, A), RandomFill(rng, B), RandomFill(rng, C);
    double *dA = ToDevice(A), *dB = ToDevice(B), *dC = ToDevice(C);
    const double alpha = 1.5, beta = -1.0;
    CUBLAS_CHECK(cublasGemmStridedBatchedEx(h, CUBLAS_OP_N, CUBLAS_OP_T, m, n, k, &alpha, dA, CUDA_R_64F, m, stride,
                                            dB, CUDA_R_64F, n, stride, &beta, dC, CUDA_R_64F, m, stride, batch,
                                            CUBLAS_COMPUTE_64F, CUBLAS_GEMM_DEFAULT));
    CUDA_CHECK(cudaStreamSynchronize(stream));
    for (int b = 0; b < batch; ++b) {
      ReferenceGemm(false, true, m, n, k, alpha, A.data() + b * stride, m, B.data() + b * stride, n, beta,
                    C.data() + b * stride, m);
    }
    std::vector<double> got = FromDevice(dC, C.size());
    ExpectClose(got, C, 1e-12, "GemmStridedBatchedEx FP64");
    sum.Add(got.data(), got.size() * sizeof(double));
    CUDA_CHECK(cudaFree(dA));
    CUDA_CHECK(cudaFree(dB));
    CUDA_CHECK(cudaFree(dC));
  }
  // Each matrix in an allocation of its own, the last batch's allocated first.
  auto batched = [&](auto zero, const char* what, auto call) {
    using T = decltype(zero);
    std::vector<std::vector<T>> A(batch, std::vector<T>(m * k)), B(batch, std::vector<T>(k * n)),
        C(batch, std::vector<T>(m * n));
    std::vector<T*> dA(batch), dB(batch), dC(batch);
    for (int b = batch - 1; b >= 0; --b) {
      RandomFill(rng, A[b]), RandomFill(rng, B[b]), RandomFill(rng, C[b]);
      dA[b] = ToDevice(A[b]), dB[b] = ToDevice(B[b]), dC[b] = ToDevice(C[b]);
    }
    T **pa = DevicePointers(dA), **pb = DevicePointers(dB), **pc = DevicePointers(dC);
    const T alpha = T(0.5), beta = T(2.0);
    CUBLAS_CHECK(call(m, n, k, &alpha, pa, pb, &beta, pc, batch));
    CUDA_CHECK(cudaStreamSynchronize(stream));
    for (int b = 0; b < batch; ++b) {
      ReferenceGemm(false, false, m, n, k, alpha, A[b].data(), m, B[b].data(), k, beta, C[b].data(), m);
      std::vector<T> got = FromDevice(dC[b], C[b].size());
      ExpectClose(got, C[b], sizeof(T) == 4 ? 1e-5 : 1e-12, what);
      sum.Add(got.data(), got.size() * sizeof(T));
    }
    for (T* d : dA) CUDA_CHECK(cudaFree(d));
    for (T* d : dB) CUDA_CHECK(cudaFree(d));
    for (T* d : dC) CUDA_CHECK(cudaFree(d));
    CUDA_CHECK(cudaFree(pa));
    CUDA_CHECK(cudaFree(pb));
    CUDA_CHECK(cudaFree(pc));
  };
  batched(0.0f, "SgemmBatched", [&](int m_, int n_, int k_, const float* alpha, float** a, float** b,
                                    const float* beta, float** c, int count) {
    return cublasSgemmBatched(h, CUBLAS_OP_N, CUBLAS_OP_N, m_, n_, k_, alpha, a, m_, b, k_, beta, c, m_, count);
  });
  batched(0.0, "DgemmBatched", [&](int m_, int n_, int k_, const double* alpha, double** a, double** b,
                                   const double* beta, double** c, int count) {
    return cublasDgemmBatched(h, CUBLAS_OP_N, CUBLAS_OP_N, m_, n_, k_, alpha, a, m_, b, k_, beta, c, m_, count);
  });

  // GemmBatchedEx: half A and B (small integers), single C.
  std::vector<std::vector<float>> A(batch), B(batch), C(batch);
  std::vector<__half*> dA(batch), dB(batch);
  std::vector<float*> dC(batch);
  for (int b = 0; b < batch; ++b) {
    A[b] = SmallIntegers(rng, m * k), B[b] = SmallIntegers(rng, k * n), C[b] = SmallIntegers(rng, m * n);
    dA[b] = ToDevice(ToHalf(A[b])), dB[b] = ToDevice(ToHalf(B[b])), dC[b] = ToDevice(C[b]);
  }
  __half **pa = DevicePointers(dA), **pb = DevicePointers(dB);
  float** pc = DevicePointers(dC);
  const float alpha = -1.0f, beta = 3.0f;
  CUBLAS_CHECK(cublasGemmBatchedEx(h, CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, &alpha,
                                   reinterpret_cast<const void* const*>(pa), CUDA_R_16F, m,
                                   reinterpret_cast<const void* const*>(pb), CUDA_R_16F, k, &beta,
                                   reinterpret_cast<void* const*>(pc), CUDA_R_32F, m, batch, CUBLAS_COMPUTE_32F,
                                   CUBLAS_GEMM_DEFAULT));
  CUDA_CHECK(cudaStreamSynchronize(stream));
  for (int b = 0; b < batch; ++b) {
    ReferenceGemm(false, false, m, n, k, alpha, A[b].data(), m, B[b].data(), k, beta, C[b].data(), m);
    std::vector<float> got = FromDevice(dC[b], C[b].size());
    ExpectClose(got, C[b], 0.0, "GemmBatchedEx FP16 in, FP32 out");
    sum.Add(got.data(), got.size() * sizeof(float));
    CUDA_CHECK(cudaFree(dA[b]));
    CUDA_CHECK(cudaFree(dB[b]));
    CUDA_CHECK(cudaFree(dC[b]));
  }
  CUDA_CHECK(cudaFree(pa));
  CUDA_CHECK(cudaFree(pb));
  CUDA_CHECK(cudaFree(pc));
}

// SAXPY, SSCAL, SDOT and SNRM2 with the scalars and results on the host
// (pointer mode host) or in device memory (device).
void Level1(cublasHandle_t h, cudaStream_t stream, rtest::Rng& rng, rtest::Checksum& sum, bool device_mode) {
  const int n = 37;
  std::vector<float> x(n), y(n);
  RandomFill(rng, x), RandomFill(rng, y);
  float *dx = ToDevice(x), *dy = ToDevice(y);
  const char* mode = device_mode ? "device mode" : "host mode";
  CUBLAS_CHECK(cublasSetPointerMode(h, device_mode ? CUBLAS_POINTER_MODE_DEVICE : CUBLAS_POINTER_MODE_HOST));
  cublasPointerMode_t got_mode;
  CUBLAS_CHECK(cublasGetPointerMode(h, &got_mode));
  CHECKF(got_mode == (device_mode ? CUBLAS_POINTER_MODE_DEVICE : CUBLAS_POINTER_MODE_HOST), "%s: pointer mode %d",
         mode, (int)got_mode);
  float alpha = 0.25f, scale = -3.0f, dot = 0, norm = 0;
  float* scalars = nullptr;  // alpha, scale, dot, norm on the device
  if (device_mode) {
    CUDA_CHECK(cudaMalloc(&scalars, 4 * sizeof(float)));
    const float init[4] = {alpha, scale, 0, 0};
    CUDA_CHECK(cudaMemcpy(scalars, init, sizeof init, cudaMemcpyHostToDevice));
  }
  const float* p_alpha = device_mode ? scalars : &alpha;
  const float* p_scale = device_mode ? scalars + 1 : &scale;
  float* p_dot = device_mode ? scalars + 2 : &dot;
  float* p_norm = device_mode ? scalars + 3 : &norm;
  CUBLAS_CHECK(cublasSaxpy(h, n, p_alpha, dx, 1, dy, 1));  // y += alpha x
  CUBLAS_CHECK(cublasSscal(h, n, p_scale, dx, 1));        // x *= scale
  CUBLAS_CHECK(cublasSdot(h, n, dx, 1, dy, 1, p_dot));
  CUBLAS_CHECK(cublasSnrm2(h, n, dy, 1, p_norm));
  CUDA_CHECK(cudaStreamSynchronize(stream));
  if (device_mode) {
    float back[4];
    CUDA_CHECK(cudaMemcpy(back, scalars, sizeof back, cudaMemcpyDeviceToHost));
    dot = back[2], norm = back[3];
    CUDA_CHECK(cudaFree(scalars));
  }
  double want_dot = 0, want_norm = 0;
  for (int i = 0; i < n; ++i) {
    y[i] += alpha * x[i];
    x[i] *= scale;
    want_dot += double(x[i]) * y[i];
    want_norm += double(y[i]) * y[i];
  }
  want_norm = std::sqrt(want_norm);
  ExpectClose(FromDevice(dx, n), x, 1e-6, device_mode ? "SSCAL (device mode)" : "SSCAL (host mode)");
  ExpectClose(FromDevice(dy, n), y, 1e-6, device_mode ? "SAXPY (device mode)" : "SAXPY (host mode)");
  CHECKF(std::fabs(dot - want_dot) <= 1e-4 * (1 + std::fabs(want_dot)), "%s: SDOT %g, expected %g", mode, dot,
         want_dot);
  CHECKF(std::fabs(norm - want_norm) <= 1e-4 * (1 + want_norm), "%s: SNRM2 %g, expected %g", mode, norm, want_norm);
  sum.Add(&dot, sizeof dot), sum.Add(&norm, sizeof norm);
  CUDA_CHECK(cudaFree(dx));
  CUDA_CHECK(cudaFree(dy));
  CUBLAS_CHECK(cublasSetPointerMode(h, CUBLAS_POINTER_MODE_HOST));
}

template <class T>
T HostAt(const std::vector<T>& m, int ld, int r, int c, bool transposed) {
  return transposed ? m[c + r * ld] : m[r + c * ld];
}

// Level 1 in double precision and the data movers; GEMV (both ops), TRSM
// (left lower, right upper transposed with a unit diagonal), GEAM; ISAMAX's
// int result in both pointer modes.
void MoreBlas(cublasHandle_t h, cudaStream_t stream, rtest::Rng& rng, rtest::Checksum& sum) {
  const int n = 29;
  std::vector<double> x(n), y(n);
  RandomFill(rng, x), RandomFill(rng, y);
  double *dx = ToDevice(x), *dy = ToDevice(y), *dz = nullptr;
  CUDA_CHECK(cudaMalloc(&dz, n * sizeof(double)));
  const double a = -0.75, s = 1.5;
  double dot = 0, norm = 0;
  CUBLAS_CHECK(cublasDaxpy(h, n, &a, dx, 1, dy, 1));
  CUBLAS_CHECK(cublasDscal(h, n, &s, dx, 1));
  CUBLAS_CHECK(cublasDdot(h, n, dx, 1, dy, 1, &dot));
  CUBLAS_CHECK(cublasDnrm2(h, n, dy, 1, &norm));
  CUBLAS_CHECK(cublasDcopy(h, n, dy, 1, dz, 1));
  CUDA_CHECK(cudaStreamSynchronize(stream));
  double want_dot = 0, want_norm = 0;
  for (int i = 0; i < n; ++i) {
    y[i] += a * x[i];
    x[i] *= s;
    want_dot += x[i] * y[i];
    want_norm += y[i] * y[i];
  }
  ExpectClose(FromDevice(dz, n), y, 1e-14, "DAXPY then DCOPY");
  CHECKF(std::fabs(dot - want_dot) <= 1e-12 * (1 + std::fabs(want_dot)), "DDOT %g, expected %g", dot, want_dot);
  CHECKF(std::fabs(norm - std::sqrt(want_norm)) <= 1e-12 * (1 + norm), "DNRM2 %g", norm);
  sum.Add(&dot, sizeof dot), sum.Add(&norm, sizeof norm);
  CUDA_CHECK(cudaFree(dx));
  CUDA_CHECK(cudaFree(dy));
  CUDA_CHECK(cudaFree(dz));

  // SSWAP, SASUM, ISAMAX (host and device results).
  std::vector<float> u(n), v(n);
  RandomFill(rng, u), RandomFill(rng, v);
  u[17] = 5.0f;  // the largest magnitude, once
  float *du = ToDevice(u), *dv = ToDevice(v);
  CUBLAS_CHECK(cublasSswap(h, n, du, 1, dv, 1));
  float asum = 0;
  int amax = 0;
  CUBLAS_CHECK(cublasSasum(h, n, dv, 1, &asum));
  CUBLAS_CHECK(cublasIsamax(h, n, dv, 1, &amax));
  int* d_amax = nullptr;
  CUDA_CHECK(cudaMalloc(&d_amax, sizeof(int)));
  CUBLAS_CHECK(cublasSetPointerMode(h, CUBLAS_POINTER_MODE_DEVICE));
  CUBLAS_CHECK(cublasIsamax(h, n, dv, 1, d_amax));
  CUBLAS_CHECK(cublasSetPointerMode(h, CUBLAS_POINTER_MODE_HOST));
  CUDA_CHECK(cudaStreamSynchronize(stream));
  int amax_device = 0;
  CUDA_CHECK(cudaMemcpy(&amax_device, d_amax, sizeof(int), cudaMemcpyDeviceToHost));
  double want_asum = 0;
  for (float e : u) want_asum += std::fabs(e);
  ExpectClose(FromDevice(du, n), v, 0.0, "SSWAP (x)");
  ExpectClose(FromDevice(dv, n), u, 0.0, "SSWAP (y)");
  CHECKF(std::fabs(asum - want_asum) <= 1e-5 * want_asum, "SASUM %g, expected %g", asum, want_asum);
  CHECKF(amax == 18 && amax_device == 18, "ISAMAX %d (device mode %d), expected 18", amax, amax_device);
  sum.Add(&asum, sizeof asum), sum.Add(&amax, sizeof amax);
  CUDA_CHECK(cudaFree(du));
  CUDA_CHECK(cudaFree(dv));
  CUDA_CHECK(cudaFree(d_amax));

  // GEMV: A 5 x 4 (lda 6); y = 2 A x - y and y = A^T x.
  {
    const int m = 5, k = 4, lda = 6;
    std::vector<float> A(lda * k), xv(k), yv(m), xt(m), yt(k, 0.0f);
    RandomFill(rng, A), RandomFill(rng, xv), RandomFill(rng, yv), RandomFill(rng, xt);
    float *dA = ToDevice(A), *dxv = ToDevice(xv), *dyv = ToDevice(yv), *dxt = ToDevice(xt), *dyt = ToDevice(yt);
    const float two = 2.0f, minus = -1.0f, one = 1.0f, zero = 0.0f;
    CUBLAS_CHECK(cublasSgemv(h, CUBLAS_OP_N, m, k, &two, dA, lda, dxv, 1, &minus, dyv, 1));
    CUBLAS_CHECK(cublasSgemv(h, CUBLAS_OP_T, m, k, &one, dA, lda, dxt, 1, &zero, dyt, 1));
    CUDA_CHECK(cudaStreamSynchronize(stream));
    for (int i = 0; i < m; ++i) {
      double acc = 0;
      for (int j = 0; j < k; ++j) acc += double(A[i + j * lda]) * xv[j];
      yv[i] = float(2 * acc - yv[i]);
    }
    for (int j = 0; j < k; ++j) {
      double acc = 0;
      for (int i = 0; i < m; ++i) acc += double(A[i + j * lda]) * xt[i];
      yt[j] = float(acc);
    }
    std::vector<float> g1 = FromDevice(dyv, m), g2 = FromDevice(dyt, k);
    ExpectClose(g1, yv, 1e-5, "SGEMV N");
    ExpectClose(g2, yt, 1e-5, "SGEMV T");
    sum.AddVector(g1), sum.AddVector(g2);
    for (float* p : {dA, dxv, dyv, dxt, dyt}) CUDA_CHECK(cudaFree(p));
  }
  // DGEMV T.
  {
    const int m = 3, k = 4;
    std::vector<double> A(m * k), xv(m), yv(k);
    RandomFill(rng, A), RandomFill(rng, xv), RandomFill(rng, yv);
    double *dA = ToDevice(A), *dxv = ToDevice(xv), *dyv = ToDevice(yv);
    const double one = 1.0, half = 0.5;
    CUBLAS_CHECK(cublasDgemv(h, CUBLAS_OP_T, m, k, &one, dA, m, dxv, 1, &half, dyv, 1));
    CUDA_CHECK(cudaStreamSynchronize(stream));
    for (int j = 0; j < k; ++j) {
      double acc = 0;
      for (int i = 0; i < m; ++i) acc += A[i + j * m] * xv[i];
      yv[j] = acc + 0.5 * yv[j];
    }
    std::vector<double> got = FromDevice(dyv, k);
    ExpectClose(got, yv, 1e-13, "DGEMV T");
    sum.AddVector(got);
    for (double* p : {dA, dxv, dyv}) CUDA_CHECK(cudaFree(p));
  }
  // STRSM left lower: A X = 2 B, A 4 x 4 (diagonal 2..3), B 4 x 3; checked as A X == 2 B.
  {
    const int m = 4, k = 3;
    std::vector<float> A(m * m, 0.0f), B(m * k);
    for (int c = 0; c < m; ++c)
      for (int r = c; r < m; ++r) A[r + c * m] = r == c ? float(rng.Double(2, 3)) : float(rng.Double(-0.5, 0.5));
    RandomFill(rng, B);
    float *dA = ToDevice(A), *dB = ToDevice(B);
    const float two = 2.0f;
    CUBLAS_CHECK(cublasStrsm(h, CUBLAS_SIDE_LEFT, CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_N, CUBLAS_DIAG_NON_UNIT, m, k,
                             &two, dA, m, dB, m));
    CUDA_CHECK(cudaStreamSynchronize(stream));
    std::vector<float> X = FromDevice(dB, B.size()), AX(B.size()), want(B.size());
    for (int c = 0; c < k; ++c)
      for (int r = 0; r < m; ++r) {
        double acc = 0;
        for (int j = 0; j <= r; ++j) acc += double(A[r + j * m]) * X[j + c * m];
        AX[r + c * m] = float(acc);
        want[r + c * m] = 2 * B[r + c * m];
      }
    ExpectClose(AX, want, 1e-5, "STRSM left lower (A X = 2 B)");
    sum.AddVector(X);
    CUDA_CHECK(cudaFree(dA));
    CUDA_CHECK(cudaFree(dB));
  }
  // DTRSM right, A upper transposed, unit diagonal: X A^T = B, B 2 x 3; checked as X A^T == B.
  {
    const int m = 2, k = 3;
    std::vector<double> A(k * k), B(m * k);
    RandomFill(rng, A), RandomFill(rng, B);
    double *dA = ToDevice(A), *dB = ToDevice(B);
    const double one = 1.0;
    CUBLAS_CHECK(cublasDtrsm(h, CUBLAS_SIDE_RIGHT, CUBLAS_FILL_MODE_UPPER, CUBLAS_OP_T, CUBLAS_DIAG_UNIT, m, k, &one,
                             dA, k, dB, m));
    CUDA_CHECK(cudaStreamSynchronize(stream));
    std::vector<double> X = FromDevice(dB, B.size()), XAt(B.size());
    auto upper_unit = [&](int r, int c) { return r == c ? 1.0 : r < c ? A[r + c * k] : 0.0; };
    for (int r = 0; r < m; ++r)
      for (int c = 0; c < k; ++c) {
        double acc = 0;
        for (int j = 0; j < k; ++j) acc += X[r + j * m] * upper_unit(c, j);  // (A^T)[j][c] = A[c][j]
        XAt[r + c * m] = acc;
      }
    ExpectClose(XAt, B, 1e-12, "DTRSM right upper T unit (X A^T = B)");
    sum.AddVector(X);
    CUDA_CHECK(cudaFree(dA));
    CUDA_CHECK(cudaFree(dB));
  }
  // GEAM: C = 0.5 A^T + 2 B (single), C = A - B (double); A^T: A is 3 x 4, C 4 x 3.
  {
    std::vector<float> A(3 * 4), B(4 * 3), C(4 * 3);
    RandomFill(rng, A), RandomFill(rng, B);
    float *dA = ToDevice(A), *dB = ToDevice(B), *dC = ToDevice(C);
    const float half = 0.5f, two = 2.0f;
    CUBLAS_CHECK(cublasSgeam(h, CUBLAS_OP_T, CUBLAS_OP_N, 4, 3, &half, dA, 3, &two, dB, 4, dC, 4));
    std::vector<double> dA2(6), dB2(6);
    RandomFill(rng, dA2), RandomFill(rng, dB2);
    double *ddA = ToDevice(dA2), *ddB = ToDevice(dB2), *ddC = ToDevice(std::vector<double>(6));
    const double one = 1.0, minus = -1.0;
    CUBLAS_CHECK(cublasDgeam(h, CUBLAS_OP_N, CUBLAS_OP_N, 2, 3, &one, ddA, 2, &minus, ddB, 2, ddC, 2));
    CUDA_CHECK(cudaStreamSynchronize(stream));
    for (int c = 0; c < 3; ++c)
      for (int r = 0; r < 4; ++r) C[r + c * 4] = 0.5f * HostAt(A, 3, r, c, true) + 2 * B[r + c * 4];
    std::vector<double> dC2(6);
    for (int i = 0; i < 6; ++i) dC2[i] = dA2[i] - dB2[i];
    std::vector<float> g = FromDevice(dC, C.size());
    std::vector<double> g2 = FromDevice(ddC, 6);
    ExpectClose(g, C, 1e-6, "SGEAM");
    ExpectClose(g2, dC2, 0.0, "DGEAM");
    sum.AddVector(g), sum.AddVector(g2);
    for (float* p : {dA, dB, dC}) CUDA_CHECK(cudaFree(p));
    for (double* p : {ddA, ddB, ddC}) CUDA_CHECK(cudaFree(p));
  }
}

// Batched LU: SGETRF with pivoting then SGETRS (A X = B, checked as
// A X == B), DGETRF and DGETRS without pivoting (null pivot arrays) on
// diagonally dominant matrices, DMATINV (checked as A A^-1 == I).
void BatchedLu(cublasHandle_t h, cudaStream_t stream, rtest::Rng& rng, rtest::Checksum& sum) {
  const int n = 4, lda = 5, nrhs = 2, batch = 3;
  auto run = [&](auto zero, bool pivoting, const char* what) {
    using T = decltype(zero);
    std::vector<std::vector<T>> A(batch, std::vector<T>(lda * n)), B(batch, std::vector<T>(n * nrhs));
    std::vector<T*> dA(batch), dB(batch);
    for (int b = 0; b < batch; ++b) {
      RandomFill(rng, A[b]), RandomFill(rng, B[b]);
      if (!pivoting)
        for (int i = 0; i < n; ++i) A[b][i + i * lda] += T(n);  // dominant diagonal: no pivot needed
      dA[b] = ToDevice(A[b]), dB[b] = ToDevice(B[b]);
    }
    T **pa = DevicePointers(dA), **pb = DevicePointers(dB);
    int *pivots = nullptr, *infos = nullptr;
    if (pivoting) CUDA_CHECK(cudaMalloc(&pivots, n * batch * sizeof(int)));
    CUDA_CHECK(cudaMalloc(&infos, batch * sizeof(int)));
    int info = -1;
    if constexpr (sizeof(T) == 4) {
      CUBLAS_CHECK(cublasSgetrfBatched(h, n, pa, lda, pivots, infos, batch));
      CUBLAS_CHECK(cublasSgetrsBatched(h, CUBLAS_OP_N, n, nrhs, pa, lda, pivots, pb, n, &info, batch));
    } else {
      CUBLAS_CHECK(cublasDgetrfBatched(h, n, pa, lda, pivots, infos, batch));
      CUBLAS_CHECK(cublasDgetrsBatched(h, CUBLAS_OP_N, n, nrhs, pa, lda, pivots, pb, n, &info, batch));
    }
    CUDA_CHECK(cudaStreamSynchronize(stream));
    CHECKF(info == 0, "%s: getrsBatched info %d", what, info);
    std::vector<int> host_infos = FromDevice(infos, batch);
    for (int b = 0; b < batch; ++b) {
      CHECKF(host_infos[b] == 0, "%s: batch %d: getrfBatched info %d", what, b, host_infos[b]);
      std::vector<T> X = FromDevice(dB[b], n * nrhs), AX(n * nrhs);
      for (int j = 0; j < nrhs; ++j)
        for (int r = 0; r < n; ++r) {
          double acc = 0;
          for (int c = 0; c < n; ++c) acc += double(A[b][r + c * lda]) * X[c + j * n];
          AX[r + j * n] = T(acc);
        }
      ExpectClose(AX, B[b], sizeof(T) == 4 ? 1e-4 : 1e-12, what);
      sum.AddVector(X);
    }
    for (T* d : dA) CUDA_CHECK(cudaFree(d));
    for (T* d : dB) CUDA_CHECK(cudaFree(d));
    CUDA_CHECK(cudaFree(pa));
    CUDA_CHECK(cudaFree(pb));
    if (pivots) CUDA_CHECK(cudaFree(pivots));
    CUDA_CHECK(cudaFree(infos));
  };
  run(0.0f, /*pivoting=*/true, "SGETRF/SGETRS batched (pivoting)");
  run(0.0, /*pivoting=*/false, "DGETRF/DGETRS batched (no pivoting)");

  // DMATINV: A A^-1 == I.
  std::vector<std::vector<double>> A(batch, std::vector<double>(n * n));
  std::vector<double*> dA(batch), dI(batch);
  for (int b = 0; b < batch; ++b) {
    RandomFill(rng, A[b]);
    for (int i = 0; i < n; ++i) A[b][i + i * n] += n;
    dA[b] = ToDevice(A[b]), dI[b] = ToDevice(std::vector<double>(n * n));
  }
  double **pa = DevicePointers(dA), **pi = DevicePointers(dI);
  int* infos = nullptr;
  CUDA_CHECK(cudaMalloc(&infos, batch * sizeof(int)));
  CUBLAS_CHECK(cublasDmatinvBatched(h, n, pa, n, pi, n, infos, batch));
  CUDA_CHECK(cudaStreamSynchronize(stream));
  std::vector<int> host_infos = FromDevice(infos, batch);
  for (int b = 0; b < batch; ++b) {
    CHECKF(host_infos[b] == 0, "DMATINV batch %d: info %d", b, host_infos[b]);
    std::vector<double> inv = FromDevice(dI[b], n * n), product(n * n), identity(n * n, 0.0);
    for (int i = 0; i < n; ++i) identity[i + i * n] = 1.0;
    for (int c = 0; c < n; ++c)
      for (int r = 0; r < n; ++r) {
        double acc = 0;
        for (int k = 0; k < n; ++k) acc += A[b][r + k * n] * inv[k + c * n];
        product[r + c * n] = acc;
      }
    ExpectClose(product, identity, 1e-12, "DMATINV batched (A A^-1 = I)");
    sum.AddVector(inv);
  }
  for (int b = 0; b < batch; ++b) {
    CUDA_CHECK(cudaFree(dA[b]));
    CUDA_CHECK(cudaFree(dI[b]));
  }
  CUDA_CHECK(cudaFree(pa));
  CUDA_CHECK(cudaFree(pi));
  CUDA_CHECK(cudaFree(infos));
}

void SessionChecks(cublasHandle_t h) {
  // A vector longer than its allocation: refused before the library.
  float* small = nullptr;
  CUDA_CHECK(cudaMalloc(&small, 16 * sizeof(float)));
  const float one = 1.0f;
  CUBLAS_EXPECT(cublasSaxpy(h, 1000, &one, small, 1, small, 1), CUBLAS_STATUS_INVALID_VALUE);
  float r = 0;
  CUBLAS_EXPECT(cublasSdot(h, 17, small, 1, small, 1, &r), CUBLAS_STATUS_INVALID_VALUE);
  CUBLAS_CHECK(cublasSdot(h, 16, small, 1, small, 1, &r));  // the whole allocation is fine
  // A device pointer that is no allocation at all.
  CUBLAS_EXPECT(cublasSscal(h, 4, &one, reinterpret_cast<float*>(0x1000), 1), CUBLAS_STATUS_INVALID_VALUE);
  // A made-up handle.
  CUBLAS_EXPECT(cublasSetMathMode(reinterpret_cast<cublasHandle_t>(uintptr_t{0xdead}), CUBLAS_DEFAULT_MATH),
                CUBLAS_STATUS_INVALID_VALUE);
  CUBLAS_EXPECT(cublasDestroy(reinterpret_cast<cublasHandle_t>(uintptr_t{0xdead})), CUBLAS_STATUS_INVALID_VALUE);

  // Typed and batched GEMMs: an element type or compute type the worker
  // cannot size, an array of pointers one of which is no allocation, a
  // batch count beyond the array, a matrix longer than its allocation.
  float* ptrs_host[2] = {small, reinterpret_cast<float*>(0x1000)};
  float** ptrs = DevicePointers(std::vector<float*>(ptrs_host, ptrs_host + 2));
  CUBLAS_EXPECT(cublasGemmEx(h, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 2, &one, small, static_cast<cudaDataType>(999), 2,
                             small, CUDA_R_32F, 2, &one, small, CUDA_R_32F, 2, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                CUBLAS_STATUS_INVALID_VALUE);
  CUBLAS_EXPECT(cublasGemmEx(h, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 2, &one, small, CUDA_R_32F, 2, small, CUDA_R_32F, 2,
                             &one, small, CUDA_R_32F, 2, static_cast<cublasComputeType_t>(999), CUBLAS_GEMM_DEFAULT),
                CUBLAS_STATUS_INVALID_VALUE);
  CUBLAS_EXPECT(cublasGemmEx(h, CUBLAS_OP_N, CUBLAS_OP_N, 4, 4, 4, &one, small, CUDA_R_64F, 4, small, CUDA_R_32F, 4,
                             &one, small, CUDA_R_32F, 4, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                CUBLAS_STATUS_INVALID_VALUE);  // 16 doubles do not fit 16 floats
  CUBLAS_EXPECT(cublasSgemmBatched(h, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 2, &one, ptrs, 2, ptrs, 2, &one, ptrs, 2, 2),
                CUBLAS_STATUS_INVALID_VALUE);
  CUBLAS_EXPECT(cublasSgemmBatched(h, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 2, &one, ptrs, 2, ptrs, 2, &one, ptrs, 2, 3),
                CUBLAS_STATUS_INVALID_VALUE);
  CUBLAS_CHECK(cublasSgemmBatched(h, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 2, &one, ptrs, 2, ptrs, 2, &one, ptrs, 2, 1));
  CUDA_CHECK(cudaFree(ptrs));

  rtest::RawLibraryCallFn call = rtest::PrivateLibraryCall();
  CHECKF(call != nullptr, "rcudaPrivateLibraryCall is not exported: not running through rcuda?");
  rtest::RawLibraryReply reply{};
  const int64_t values[2] = {static_cast<int64_t>(reinterpret_cast<uintptr_t>(h)), 0};
  // An unknown function id, a call with too few or too many values.
  rtest::RawLibraryCall unknown{1, 100000, values, 2, nullptr, 0};
  CHECKF(call(&unknown, &reply) == 0 && reply.status == CUBLAS_STATUS_INVALID_VALUE, "unknown function: status %d",
         reply.status);
  rtest::RawLibraryCall empty{1, 0, values, 2, nullptr, 0};  // function 0 (cublasCreate) takes no value
  CHECKF(call(&empty, &reply) == 0 && reply.status == CUBLAS_STATUS_INVALID_VALUE, "extra values: status %d",
         reply.status);
  rtest::RawLibraryCall short_call{1, 1, nullptr, 0, nullptr, 0};  // function 1 (cublasDestroy) needs the handle
  CHECKF(call(&short_call, &reply) == 0 && reply.status == CUBLAS_STATUS_INVALID_VALUE, "no values: status %d",
         reply.status);
  // An unknown library: the session's own error, not a crash.
  rtest::RawLibraryCall library{77, 0, nullptr, 0, nullptr, 0};
  CHECKF(call(&library, &reply) == cudaErrorInvalidValue, "unknown library accepted");
  CUDA_CHECK(cudaGetLastError());  // a library's call leaves the runtime's last error alone

  // Too many handles: the session's handle cap answers ALLOC_FAILED.
  std::vector<cublasHandle_t> handles;
  cublasStatus_t st = CUBLAS_STATUS_SUCCESS;
  for (int i = 0; i < 20000 && st == CUBLAS_STATUS_SUCCESS; ++i) {
    cublasHandle_t extra = nullptr;
    st = cublasCreate(&extra);
    if (st == CUBLAS_STATUS_SUCCESS) handles.push_back(extra);
  }
  CHECKF(st == CUBLAS_STATUS_ALLOC_FAILED, "after %zu handles: status %d, expected ALLOC_FAILED", handles.size(),
         (int)st);
  std::printf("the session's handle cap refused handle %zu\n", handles.size() + 1);
  for (cublasHandle_t extra : handles) CUBLAS_CHECK(cublasDestroy(extra));
  // Still serving.
  cublasHandle_t again = nullptr;
  CUBLAS_CHECK(cublasCreate(&again));
  CUBLAS_CHECK(cublasSdot(again, 16, small, 1, small, 1, &r));
  CUBLAS_CHECK(cublasDestroy(again));
  CUDA_CHECK(cudaFree(small));
}

}  // namespace

int main(int argc, char** argv) {
  rtest::Rng rng = rtest::Init("cublas_gemm");
  rtest::Checksum sum;
  const bool session_checks = argc > 1 && std::strcmp(argv[1], "--session-checks") == 0;

  cublasHandle_t h = nullptr;
  CUBLAS_CHECK(cublasCreate(&h));
  int version = 0;
  CUBLAS_CHECK(cublasGetVersion(h, &version));
  CHECKF(version >= 130000, "cublasGetVersion: %d", version);
  std::printf("cuBLAS version %d\n", version);
  cudaStream_t stream = nullptr;
  // A blocking stream: the uploads (cudaMemcpy on the legacy stream, whose
  // DMA from pageable memory may still run when it returns, as CUDA
  // documents) are ordered before its work.
  CUDA_CHECK(cudaStreamCreate(&stream));
  CUBLAS_CHECK(cublasSetStream(h, stream));
  cudaStream_t got_stream = nullptr;
  CUBLAS_CHECK(cublasGetStream(h, &got_stream));
  CHECKF(got_stream == stream, "cublasGetStream: %p, expected %p", (void*)got_stream, (void*)stream);
  CUBLAS_CHECK(cublasSetMathMode(h, CUBLAS_PEDANTIC_MATH));
  cublasMath_t math = CUBLAS_DEFAULT_MATH;
  CUBLAS_CHECK(cublasGetMathMode(h, &math));
  CHECKF(math == CUBLAS_PEDANTIC_MATH, "cublasGetMathMode: %d", (int)math);

  Gemms(h, stream, rng, sum);
  Hgemm(h, stream, rng, sum);
  GemmEx(h, stream, rng, sum);
  BatchedGemms(h, stream, rng, sum);
  MoreBlas(h, stream, rng, sum);
  BatchedLu(h, stream, rng, sum);
  Level1(h, stream, rng, sum, /*device_mode=*/false);
  Level1(h, stream, rng, sum, /*device_mode=*/true);
  if (session_checks) SessionChecks(h);

  CUBLAS_CHECK(cublasDestroy(h));
  CUDA_CHECK(cudaStreamDestroy(stream));
  return rtest::Pass(sum);
}
