// large_gemm: the issue's "a large GEMM (8192^3, FP32 and FP16) through rcuda
// within 1.05x of native time". An unmodified cuBLAS program (linked with
// NVIDIA's libcublas.so.13; under rcuda-run it binds to rcuda's): n x n
// GEMMs, C = A B, in single precision (cublasSgemm) and in half precision
// with single-precision accumulation (cublasGemmEx, CUDA_R_16F,
// CUBLAS_COMPUTE_32F: the tensor-core path), each timed with CUDA events
// over --iters GEMMs after a warm-up, on a stream of its own. Prints one
// line per precision: "gemm fp32 n=8192 ms=... tflops=..." for
// bench/micro/large_gemm.sh, which runs it natively and through rcuda and
// prints the ratio.
//
// A and B are filled with cudaMemset byte patterns (no kernel of our own, so
// it runs on the TEST backend as well), which makes every element of C
// n * a * b: checked on a few elements, so a GEMM that did not run fails.
//
//   large_gemm [--n N] [--iters I]      defaults: 8192, 10
#include <cublas_v2.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

bool Ok(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return true;
  std::fprintf(stderr, "FAIL large_gemm: %s: %s\n", what, cudaGetErrorString(e));
  return false;
}

bool Ok(cublasStatus_t s, const char* what) {
  if (s == CUBLAS_STATUS_SUCCESS) return true;
  std::fprintf(stderr, "FAIL large_gemm: %s: cuBLAS status %d\n", what, static_cast<int>(s));
  return false;
}

// The value every byte of `pattern` makes in a float or a half.
double FloatOf(unsigned char pattern) {
  unsigned int bits = 0x01010101u * pattern;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}
double HalfOf(unsigned char pattern) {
  unsigned short bits = static_cast<unsigned short>(0x0101u * pattern);
  __half h;
  std::memcpy(&h, &bits, sizeof h);
  return __half2float(h);
}

// Times `iters` GEMMs of one precision; false on any error or wrong result.
bool Run(cublasHandle_t h, cudaStream_t stream, bool half, int n, int iters) {
  const size_t elem = half ? 2 : 4, bytes = elem * static_cast<size_t>(n) * n;
  void *a = nullptr, *b = nullptr, *c = nullptr;
  if (!Ok(cudaMalloc(&a, bytes), "cudaMalloc A") || !Ok(cudaMalloc(&b, bytes), "cudaMalloc B") ||
      !Ok(cudaMalloc(&c, bytes), "cudaMalloc C")) {
    return false;
  }
  const unsigned char pa = 0x3c, pb = 0x3b;  // float: about 0.0115 and 0.0029; half: about 1.06 and 0.94
  bool ok = Ok(cudaMemset(a, pa, bytes), "cudaMemset A") && Ok(cudaMemset(b, pb, bytes), "cudaMemset B") &&
            Ok(cudaMemset(c, 0, bytes), "cudaMemset C");
  const float one = 1.0f, zero = 0.0f;
  auto gemm = [&]() {
    if (half) {
      return cublasGemmEx(h, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &one, a, CUDA_R_16F, n, b, CUDA_R_16F, n, &zero, c,
                          CUDA_R_16F, n, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
    }
    return cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &one, static_cast<float*>(a), n,
                       static_cast<float*>(b), n, &zero, static_cast<float*>(c), n);
  };
  cudaEvent_t start = nullptr, stop = nullptr;
  ok = ok && Ok(cudaEventCreate(&start), "cudaEventCreate") && Ok(cudaEventCreate(&stop), "cudaEventCreate");
  ok = ok && Ok(gemm(), "warm-up GEMM") && Ok(cudaStreamSynchronize(stream), "warm-up");
  ok = ok && Ok(cudaEventRecord(start, stream), "cudaEventRecord");
  for (int i = 0; ok && i < iters; ++i) ok = Ok(gemm(), "GEMM");
  ok = ok && Ok(cudaEventRecord(stop, stream), "cudaEventRecord") && Ok(cudaEventSynchronize(stop), "sync");
  float ms = 0;
  ok = ok && Ok(cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime");
  if (ok) {
    // Every element of C is n * a * b: check the first, the last and one between.
    const double want = n * (half ? HalfOf(pa) * HalfOf(pb) : FloatOf(pa) * FloatOf(pb));
    const size_t where[3] = {0, static_cast<size_t>(n) * n / 2 + 1, static_cast<size_t>(n) * n - 1};
    for (size_t i : where) {
      double got = 0;
      if (half) {
        __half v;
        ok = ok && Ok(cudaMemcpy(&v, static_cast<char*>(c) + i * elem, elem, cudaMemcpyDeviceToHost), "read C");
        got = __half2float(v);
      } else {
        float v = 0;
        ok = ok && Ok(cudaMemcpy(&v, static_cast<char*>(c) + i * elem, elem, cudaMemcpyDeviceToHost), "read C");
        got = v;
      }
      if (ok && std::fabs(got - want) > 2e-3 * std::fabs(want)) {
        std::fprintf(stderr, "FAIL large_gemm: %s C[%zu] is %g, expected %g\n", half ? "fp16" : "fp32", i, got, want);
        ok = false;
      }
    }
  }
  if (ok) {
    const double per = ms / iters, tflops = 2.0 * n * static_cast<double>(n) * n / (per * 1e-3) / 1e12;
    std::printf("gemm %s n=%d iters=%d ms=%.4f tflops=%.2f\n", half ? "fp16" : "fp32", n, iters, per, tflops);
  }
  if (start != nullptr) cudaEventDestroy(start);
  if (stop != nullptr) cudaEventDestroy(stop);
  cudaFree(a), cudaFree(b), cudaFree(c);
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  int n = 8192, iters = 10;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--n") == 0) n = std::atoi(argv[i + 1]);
    else if (std::strcmp(argv[i], "--iters") == 0) iters = std::atoi(argv[i + 1]);
  }
  if (n <= 0 || n > 32768 || iters <= 0 || iters > 1000) {
    std::fprintf(stderr, "usage: large_gemm [--n 1..32768] [--iters 1..1000]\n");
    return 2;
  }
  cublasHandle_t h = nullptr;
  cudaStream_t stream = nullptr;
  if (!Ok(cudaStreamCreate(&stream), "cudaStreamCreate") || !Ok(cublasCreate(&h), "cublasCreate") ||
      !Ok(cublasSetStream(h, stream), "cublasSetStream")) {
    return 1;
  }
  const bool ok = Run(h, stream, /*half=*/false, n, iters) && Run(h, stream, /*half=*/true, n, iters);
  cublasDestroy(h);
  cudaStreamDestroy(stream);
  if (!ok) return 1;
  std::printf("PASS large_gemm\n");
  return 0;
}
