// matrix_mul: C = A * B with the classic shared-memory tiling: each block
// computes a TILE x TILE tile of C, staging tiles of A and B in shared
// memory so that each element is read from global memory once per tile
// instead of once per product. Sizes deliberately not multiples of TILE.
// Checked against a plain CPU product.
//
//   build/bin/rcuda-run build/examples/matrix_mul [M K N]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "example_util.h"

constexpr int TILE = 16;

// A is M x K, B is K x N, C is M x N, all row-major.
__global__ void matrixMulTiled(const float* A, const float* B, float* C, int M, int K, int N) {
  __shared__ float As[TILE][TILE];
  __shared__ float Bs[TILE][TILE];
  const int row = blockIdx.y * TILE + threadIdx.y;
  const int col = blockIdx.x * TILE + threadIdx.x;
  float sum = 0.0f;
  for (int t = 0; t < (K + TILE - 1) / TILE; ++t) {
    // Load one tile of A and one of B; zeros past the edges.
    const int a_col = t * TILE + threadIdx.x;
    const int b_row = t * TILE + threadIdx.y;
    As[threadIdx.y][threadIdx.x] = (row < M && a_col < K) ? A[row * K + a_col] : 0.0f;
    Bs[threadIdx.y][threadIdx.x] = (b_row < K && col < N) ? B[b_row * N + col] : 0.0f;
    __syncthreads();
    for (int k = 0; k < TILE; ++k) sum += As[threadIdx.y][k] * Bs[k][threadIdx.x];
    __syncthreads();
  }
  if (row < M && col < N) C[row * N + col] = sum;
}

int main(int argc, char** argv) {
  const int M = argc > 3 ? std::atoi(argv[1]) : 300;
  const int K = argc > 3 ? std::atoi(argv[2]) : 200;
  const int N = argc > 3 ? std::atoi(argv[3]) : 250;
  if (M <= 0 || K <= 0 || N <= 0) {
    std::fprintf(stderr, "usage: matrix_mul [M K N, each > 0]\n");
    return 2;
  }
  PrintDevice();

  std::vector<float> A(size_t(M) * K), B(size_t(K) * N), C(size_t(M) * N);
  srand(42);
  for (auto& x : A) x = static_cast<float>(rand()) / RAND_MAX - 0.5f;
  for (auto& x : B) x = static_cast<float>(rand()) / RAND_MAX - 0.5f;

  auto start = std::chrono::steady_clock::now();
  float *dA, *dB, *dC;
  CHECK_CUDA(cudaMalloc(&dA, A.size() * sizeof(float)));
  CHECK_CUDA(cudaMalloc(&dB, B.size() * sizeof(float)));
  CHECK_CUDA(cudaMalloc(&dC, C.size() * sizeof(float)));
  CHECK_CUDA(cudaMemcpy(dA, A.data(), A.size() * sizeof(float), cudaMemcpyHostToDevice));
  CHECK_CUDA(cudaMemcpy(dB, B.data(), B.size() * sizeof(float), cudaMemcpyHostToDevice));

  dim3 block(TILE, TILE);
  dim3 grid((N + TILE - 1) / TILE, (M + TILE - 1) / TILE);
  matrixMulTiled<<<grid, block>>>(dA, dB, dC, M, K, N);
  CHECK_CUDA(cudaGetLastError());
  CHECK_CUDA(cudaMemcpy(C.data(), dC, C.size() * sizeof(float), cudaMemcpyDeviceToHost));
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  CHECK_CUDA(cudaFree(dA));
  CHECK_CUDA(cudaFree(dB));
  CHECK_CUDA(cudaFree(dC));

  // The CPU reference, in double. The GPU sums in float (and may fuse
  // multiply-adds), so compare with a tolerance.
  double max_error = 0.0;
  for (int i = 0; i < M; ++i) {
    for (int j = 0; j < N; ++j) {
      double ref = 0.0;
      for (int k = 0; k < K; ++k) ref += double(A[size_t(i) * K + k]) * B[size_t(k) * N + j];
      max_error = std::fmax(max_error, std::fabs(ref - C[size_t(i) * N + j]));
    }
  }
  std::printf("matrix_mul: (%d x %d) * (%d x %d), %u x %u blocks of %d x %d threads, %.1f ms with copies\n", M, K, K,
              N, grid.x, grid.y, TILE, TILE, ms);
  std::printf("matrix_mul: C[0][0] = %.6f, max |GPU - CPU| = %.2e\n", C[0], max_error);
  if (!(max_error < 1e-4)) {
    std::printf("matrix_mul: FAILED\n");
    return 1;
  }
  std::printf("matrix_mul: PASSED\n");
  return 0;
}
