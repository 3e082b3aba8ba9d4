// vector_add: c = a + b for a million floats on the GPU, checked on the CPU.
// The "hello world" of CUDA, and the first thing to try through rcuda:
//
//   build/bin/rcuda-run build/examples/vector_add [n]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "example_util.h"

__global__ void vectorAdd(const float* a, const float* b, float* c, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) c[i] = a[i] + b[i];
}

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 1 << 20;
  if (n <= 0) {
    std::fprintf(stderr, "usage: vector_add [n > 0]\n");
    return 2;
  }
  const size_t bytes = n * sizeof(float);
  PrintDevice();

  std::vector<float> a(n), b(n), c(n);
  for (int i = 0; i < n; ++i) {
    a[i] = std::sin(i) * 100.0f;
    b[i] = std::cos(i) * 100.0f;
  }

  auto start = std::chrono::steady_clock::now();
  float *da, *db, *dc;
  CHECK_CUDA(cudaMalloc(&da, bytes));
  CHECK_CUDA(cudaMalloc(&db, bytes));
  CHECK_CUDA(cudaMalloc(&dc, bytes));
  CHECK_CUDA(cudaMemcpy(da, a.data(), bytes, cudaMemcpyHostToDevice));
  CHECK_CUDA(cudaMemcpy(db, b.data(), bytes, cudaMemcpyHostToDevice));

  const int threads = 256;
  const int blocks = (n + threads - 1) / threads;
  vectorAdd<<<blocks, threads>>>(da, db, dc, n);
  CHECK_CUDA(cudaGetLastError());
  CHECK_CUDA(cudaMemcpy(c.data(), dc, bytes, cudaMemcpyDeviceToHost));
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();

  CHECK_CUDA(cudaFree(da));
  CHECK_CUDA(cudaFree(db));
  CHECK_CUDA(cudaFree(dc));

  int wrong = 0;
  for (int i = 0; i < n; ++i)
    if (c[i] != a[i] + b[i]) ++wrong;
  std::printf("vector_add: %d elements, %d blocks of %d threads, %.1f ms with copies\n", n, blocks, threads, ms);
  std::printf("vector_add: c[0] = %.4f, c[n-1] = %.4f\n", c[0], c[n - 1]);
  if (wrong) {
    std::printf("vector_add: FAILED (%d wrong elements)\n", wrong);
    return 1;
  }
  std::printf("vector_add: PASSED\n");
  return 0;
}
