// multi_kernel_pipeline: a small application: a tiled shared-memory matrix
// multiply, bias + ReLU, a tiled transpose, per-row reductions, a conversion,
// and ten steps of a 2-D Jacobi stencil ping-ponging between two buffers; each
// kernel consumes the previous one's output on the device, with no copies in
// between. Sizes are not multiples of the tiles. Inputs are small integers
// held in floats, so every float result is exact and checked bit for bit.
// Catches lost, reordered or overlapping launches and 2-D launch shapes
// passed wrongly.
#include "test_util.h"

constexpr int TILE = 16;

__global__ void matmulTiled(const float* A, const float* B, float* C, int M, int N, int K) {
  __shared__ float As[TILE][TILE];
  __shared__ float Bs[TILE][TILE];
  int tx = threadIdx.x, ty = threadIdx.y;
  int row = blockIdx.y * TILE + ty, col = blockIdx.x * TILE + tx;
  float acc = 0.0f;
  for (int t = 0; t < (K + TILE - 1) / TILE; ++t) {
    int ak = t * TILE + tx, bk = t * TILE + ty;
    As[ty][tx] = (row < M && ak < K) ? A[row * K + ak] : 0.0f;
    Bs[ty][tx] = (bk < K && col < N) ? B[bk * N + col] : 0.0f;
    __syncthreads();
    for (int k = 0; k < TILE; ++k) acc += As[ty][k] * Bs[k][tx];
    __syncthreads();
  }
  if (row < M && col < N) C[row * N + col] = acc;
}

__global__ void biasRelu(float* C, const float* bias, int M, int N) {
  int col = blockIdx.x * blockDim.x + threadIdx.x;
  int row = blockIdx.y * blockDim.y + threadIdx.y;
  if (row < M && col < N) C[row * N + col] = fmaxf(C[row * N + col] + bias[col], 0.0f);
}

// out (cols x rows) = transpose of in (rows x cols); 32x32 tiles, blocks of
// 32x8 threads, padded shared memory.
__global__ void transpose(const float* in, float* out, int rows, int cols) {
  __shared__ float tile[32][33];
  int x = blockIdx.x * 32 + threadIdx.x;
  int y = blockIdx.y * 32 + threadIdx.y;
  for (int j = 0; j < 32; j += 8)
    if (x < cols && y + j < rows) tile[threadIdx.y + j][threadIdx.x] = in[(y + j) * cols + x];
  __syncthreads();
  x = blockIdx.y * 32 + threadIdx.x;
  y = blockIdx.x * 32 + threadIdx.y;
  for (int j = 0; j < 32; j += 8)
    if (x < rows && y + j < cols) out[(y + j) * rows + x] = tile[threadIdx.x][threadIdx.y + j];
}

// One block of 256 threads per row.
__global__ void rowSums(const float* in, float* sums, int cols) {
  __shared__ float s[256];
  const float* row = in + (size_t)blockIdx.x * cols;
  float acc = 0.0f;
  for (int c = threadIdx.x; c < cols; c += 256) acc += row[c];
  s[threadIdx.x] = acc;
  __syncthreads();
  for (int stride = 128; stride > 0; stride /= 2) {
    if (threadIdx.x < stride) s[threadIdx.x] += s[threadIdx.x + stride];
    __syncthreads();
  }
  if (threadIdx.x == 0) sums[blockIdx.x] = s[0];
}

__global__ void toInt(const float* in, int* out, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = (int)in[i];
}

// 5-point Jacobi step with fixed borders.
__global__ void jacobiStep(const int* in, int* out, int H, int W) {
  int x = blockIdx.x * blockDim.x + threadIdx.x;
  int y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= W || y >= H) return;
  int i = y * W + x;
  if (x == 0 || y == 0 || x == W - 1 || y == H - 1) {
    out[i] = in[i];
  } else {
    out[i] = (in[i - W] + in[i + W] + in[i - 1] + in[i + 1] + 4 * in[i]) / 8;
  }
}

int main() {
  rtest::Rng rng = rtest::Init("multi_kernel_pipeline");
  rtest::Checksum sum;

  const int M = 301, K = 257, N = 199;
  std::vector<float> A(M * K), B(K * N), bias(N);
  for (auto& x : A) x = static_cast<float>(rng.Int(-8, 8));
  for (auto& x : B) x = static_cast<float>(rng.Int(-8, 8));
  for (auto& x : bias) x = static_cast<float>(rng.Int(-64, 64));

  // CPU reference.
  std::vector<float> C(M * N), CT(N * M), sums(N);
  for (int r = 0; r < M; ++r)
    for (int c = 0; c < N; ++c) {
      float acc = 0.0f;
      for (int k = 0; k < K; ++k) acc += A[r * K + k] * B[k * N + c];
      C[r * N + c] = acc;
    }
  std::vector<float> relu(C);
  for (int r = 0; r < M; ++r)
    for (int c = 0; c < N; ++c) relu[r * N + c] = std::max(relu[r * N + c] + bias[c], 0.0f);
  for (int r = 0; r < M; ++r)
    for (int c = 0; c < N; ++c) CT[c * M + r] = relu[r * N + c];
  for (int c = 0; c < N; ++c) {
    float s = 0.0f;
    for (int r = 0; r < M; ++r) s += CT[c * M + r];  // exact: integers below 2^24
    sums[c] = s;
  }
  std::vector<int> grid(M * N), next(M * N);
  for (int i = 0; i < M * N; ++i) grid[i] = static_cast<int>(relu[i]);
  const int steps = 10;
  for (int s = 0; s < steps; ++s) {
    for (int y = 0; y < M; ++y)
      for (int x = 0; x < N; ++x) {
        int i = y * N + x;
        next[i] = (x == 0 || y == 0 || x == N - 1 || y == M - 1)
                      ? grid[i]
                      : (grid[i - N] + grid[i + N] + grid[i - 1] + grid[i + 1] + 4 * grid[i]) / 8;
      }
    grid.swap(next);
  }

  float *dA, *dB, *dC, *dBias, *dCT, *dSums;
  int *dG0, *dG1;
  CUDA_CHECK(cudaMalloc(&dA, A.size() * sizeof(float)));
  CUDA_CHECK(cudaMalloc(&dB, B.size() * sizeof(float)));
  CUDA_CHECK(cudaMalloc(&dC, C.size() * sizeof(float)));
  CUDA_CHECK(cudaMalloc(&dBias, bias.size() * sizeof(float)));
  CUDA_CHECK(cudaMalloc(&dCT, CT.size() * sizeof(float)));
  CUDA_CHECK(cudaMalloc(&dSums, N * sizeof(float)));
  CUDA_CHECK(cudaMalloc(&dG0, M * N * sizeof(int)));
  CUDA_CHECK(cudaMalloc(&dG1, M * N * sizeof(int)));
  CUDA_CHECK(cudaMemcpy(dA, A.data(), A.size() * sizeof(float), cudaMemcpyHostToDevice));
  CUDA_CHECK(cudaMemcpy(dB, B.data(), B.size() * sizeof(float), cudaMemcpyHostToDevice));
  CUDA_CHECK(cudaMemcpy(dBias, bias.data(), bias.size() * sizeof(float), cudaMemcpyHostToDevice));

  // The whole pipeline, without a copy or a synchronization in between.
  matmulTiled<<<dim3(rtest::BlocksFor(N, TILE), rtest::BlocksFor(M, TILE)), dim3(TILE, TILE)>>>(dA, dB, dC, M, N, K);
  CUDA_CHECK_LAUNCH();
  std::vector<float> gotC(M * N);
  CUDA_CHECK(cudaMemcpy(gotC.data(), dC, gotC.size() * sizeof(float), cudaMemcpyDeviceToHost));
  rtest::ExpectEqual(gotC, C, "matmulTiled");

  biasRelu<<<dim3(rtest::BlocksFor(N, 64), rtest::BlocksFor(M, 4)), dim3(64, 4)>>>(dC, dBias, M, N);
  CUDA_CHECK_LAUNCH();
  transpose<<<dim3(rtest::BlocksFor(N, 32), rtest::BlocksFor(M, 32)), dim3(32, 8)>>>(dC, dCT, M, N);
  CUDA_CHECK_LAUNCH();
  rowSums<<<N, 256>>>(dCT, dSums, M);
  CUDA_CHECK_LAUNCH();
  toInt<<<rtest::BlocksFor(M * N, 128), 128>>>(dC, dG0, M * N);
  CUDA_CHECK_LAUNCH();
  dim3 sBlock(16, 16), sGrid(rtest::BlocksFor(N, 16), rtest::BlocksFor(M, 16));
  for (int s = 0; s < steps; ++s) {
    jacobiStep<<<sGrid, sBlock>>>(s % 2 == 0 ? dG0 : dG1, s % 2 == 0 ? dG1 : dG0, M, N);
    CUDA_CHECK_LAUNCH();
  }

  std::vector<float> gotCT(N * M), gotSums(N);
  std::vector<int> gotGrid(M * N);
  CUDA_CHECK(cudaMemcpy(gotCT.data(), dCT, gotCT.size() * sizeof(float), cudaMemcpyDeviceToHost));
  CUDA_CHECK(cudaMemcpy(gotSums.data(), dSums, N * sizeof(float), cudaMemcpyDeviceToHost));
  CUDA_CHECK(cudaMemcpy(gotGrid.data(), steps % 2 == 0 ? dG0 : dG1, M * N * sizeof(int), cudaMemcpyDeviceToHost));
  rtest::ExpectEqual(gotCT, CT, "biasRelu + transpose");
  rtest::ExpectEqual(gotSums, sums, "rowSums");
  rtest::ExpectEqual(gotGrid, grid, "toInt + 10 Jacobi steps");
  sum.AddVector(gotC);
  sum.AddVector(gotSums);
  sum.AddVector(gotGrid);

  for (void* p : {(void*)dA, (void*)dB, (void*)dC, (void*)dBias, (void*)dCT, (void*)dSums, (void*)dG0, (void*)dG1})
    CUDA_CHECK(cudaFree(p));
  return rtest::Pass(sum);
}
