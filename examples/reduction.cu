// reduction: the sum of a few million integers, in two kernel launches.
// Each block adds up its share with a grid-stride loop, then combines its
// threads' partial sums with a tree in shared memory; a second launch of one
// block adds up the per-block sums. Integer arithmetic, so the GPU's result
// must equal the CPU's exactly.
//
//   build/bin/rcuda-run build/examples/reduction [n]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "example_util.h"

constexpr int THREADS = 256;  // a power of two: the tree halves it

// out[blockIdx.x] = sum of the block's share of in[0..n).
__global__ void blockSum(const int* in, long long* out, int n) {
  __shared__ long long partial[THREADS];
  long long sum = 0;
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) sum += in[i];
  partial[threadIdx.x] = sum;
  __syncthreads();
  for (int stride = blockDim.x / 2; stride > 0; stride /= 2) {
    if (threadIdx.x < stride) partial[threadIdx.x] += partial[threadIdx.x + stride];
    __syncthreads();
  }
  if (threadIdx.x == 0) out[blockIdx.x] = partial[0];
}

// *out = sum of in[0..n), by one block.
__global__ void sumPartials(const long long* in, long long* out, int n) {
  __shared__ long long partial[THREADS];
  long long sum = 0;
  for (int i = threadIdx.x; i < n; i += blockDim.x) sum += in[i];
  partial[threadIdx.x] = sum;
  __syncthreads();
  for (int stride = blockDim.x / 2; stride > 0; stride /= 2) {
    if (threadIdx.x < stride) partial[threadIdx.x] += partial[threadIdx.x + stride];
    __syncthreads();
  }
  if (threadIdx.x == 0) *out = partial[0];
}

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : (1 << 22) + 123;
  if (n <= 0) {
    std::fprintf(stderr, "usage: reduction [n > 0]\n");
    return 2;
  }
  const int blocks = 120;
  PrintDevice();

  std::vector<int> data(n);
  long long expected = 0;
  for (int i = 0; i < n; ++i) {
    data[i] = (i * 2654435761u) % 2001 - 1000;  // values in [-1000, 1000]
    expected += data[i];
  }

  auto start = std::chrono::steady_clock::now();
  int* d_data;
  long long *d_partials, *d_total;
  CHECK_CUDA(cudaMalloc(&d_data, n * sizeof(int)));
  CHECK_CUDA(cudaMalloc(&d_partials, blocks * sizeof(long long)));
  CHECK_CUDA(cudaMalloc(&d_total, sizeof(long long)));
  CHECK_CUDA(cudaMemcpy(d_data, data.data(), n * sizeof(int), cudaMemcpyHostToDevice));
  blockSum<<<blocks, THREADS>>>(d_data, d_partials, n);
  CHECK_CUDA(cudaGetLastError());
  sumPartials<<<1, THREADS>>>(d_partials, d_total, blocks);
  CHECK_CUDA(cudaGetLastError());
  long long total = 0;
  CHECK_CUDA(cudaMemcpy(&total, d_total, sizeof total, cudaMemcpyDeviceToHost));
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  CHECK_CUDA(cudaFree(d_data));
  CHECK_CUDA(cudaFree(d_partials));
  CHECK_CUDA(cudaFree(d_total));

  std::printf("reduction: %d integers, %d blocks of %d threads then 1 block, %.1f ms with copies\n", n, blocks,
              THREADS, ms);
  std::printf("reduction: GPU sum %lld, CPU sum %lld\n", total, expected);
  if (total != expected) {
    std::printf("reduction: FAILED\n");
    return 1;
  }
  std::printf("reduction: PASSED\n");
  return 0;
}
