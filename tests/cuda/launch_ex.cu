// launch_ex: the explicit launch APIs: cudaLaunchKernel with an argument
// array (struct by value, dynamic shared memory, a created stream and the
// per-thread stream), cudaLaunchKernelExC with launch attributes (priority,
// cluster dimension, cooperative), the C++ cudaLaunchKernelEx template, a
// cluster shape that does not divide the grid (refused, and the context goes
// on), and a kernel with compile-time __cluster_dims__ launched with <<<>>>.
#include <cooperative_groups.h>

#include "launch_ex.h"
#include "test_util.h"

namespace cg = cooperative_groups;

__global__ void axpyParams(AxpyParams p, const float* x, float* y) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < p.n) y[i] = __fmaf_rn(p.a, x[i], y[i]);
}

// Reverses each block's slice through dynamic shared memory.
__global__ void reverseBlocks(const int* in, int* out, int n) {
  extern __shared__ int s[];
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  s[threadIdx.x] = i < n ? in[i] : -1;
  __syncthreads();
  if (i < n) out[i] = s[blockDim.x - 1 - threadIdx.x];
}

__global__ void __cluster_dims__(2, 1, 1) clusterRank(int* out) {
  cg::cluster_group cluster = cg::this_cluster();
  if (threadIdx.x == 0) out[blockIdx.x] = static_cast<int>(cluster.block_rank()) * 1000 + static_cast<int>(cluster.num_blocks());
}

static void CheckAxpy(const std::vector<float>& x, std::vector<float>& y, float a, const float* dY, const char* what,
                      rtest::Checksum& sum) {
  for (size_t i = 0; i < y.size(); ++i) y[i] = std::fma(a, x[i], y[i]);
  std::vector<float> got(y.size());
  CUDA_CHECK(cudaMemcpy(got.data(), dY, got.size() * sizeof(float), cudaMemcpyDeviceToHost));
  rtest::ExpectEqual(got, y, what);
  sum.AddVector(got);
}

static std::vector<int> Reversed(const std::vector<int>& in, int block) {
  const int n = static_cast<int>(in.size());
  std::vector<int> out(n);
  for (int i = 0; i < n; ++i) {
    int j = i - i % block + block - 1 - i % block;
    out[i] = j < n ? in[j] : -1;
  }
  return out;
}

int main() {
  rtest::Rng rng = rtest::Init("launch_ex");
  rtest::Checksum sum;
  const int n = 123457;
  std::vector<float> x(n), y(n);
  rng.FillFloats(x, -10.f, 10.f);
  rng.FillFloats(y, -10.f, 10.f);
  float *dX, *dY;
  CUDA_CHECK(cudaMalloc(&dX, n * sizeof(float)));
  CUDA_CHECK(cudaMalloc(&dY, n * sizeof(float)));
  CUDA_CHECK(cudaMemcpy(dX, x.data(), n * sizeof(float), cudaMemcpyHostToDevice));
  CUDA_CHECK(cudaMemcpy(dY, y.data(), n * sizeof(float), cudaMemcpyHostToDevice));
  cudaStream_t s;
  CUDA_CHECK(cudaStreamCreate(&s));
  int least, greatest;
  CUDA_CHECK(cudaDeviceGetStreamPriorityRange(&least, &greatest));

  // cudaLaunchKernel with an argument array.
  AxpyParams p{rng.Float(-2.f, 2.f), n};
  {
    void* args[] = {&p, &dX, &dY};
    CUDA_CHECK(cudaLaunchKernel(reinterpret_cast<const void*>(axpyParams), dim3(rtest::BlocksFor(n, 256)), dim3(256),
                                args, 0, s));
    CUDA_CHECK(cudaStreamSynchronize(s));
    CheckAxpy(x, y, p.a, dY, "cudaLaunchKernel(axpyParams) on a stream", sum);
  }

  // cudaLaunchKernelExC with priority and cluster attributes.
  {
    p.a = rng.Float(-2.f, 2.f);
    void* args[] = {&p, &dX, &dY};
    cudaLaunchAttribute attrs[2];
    attrs[0].id = cudaLaunchAttributePriority;
    attrs[0].val.priority = greatest;
    attrs[1].id = cudaLaunchAttributeClusterDimension;
    attrs[1].val.clusterDim.x = 2;
    attrs[1].val.clusterDim.y = 1;
    attrs[1].val.clusterDim.z = 1;
    cudaLaunchConfig_t config = {};
    config.gridDim = dim3(2 * rtest::BlocksFor(n, 2 * 128));
    config.blockDim = dim3(128);
    config.stream = s;
    config.attrs = attrs;
    config.numAttrs = 2;
    CUDA_CHECK(cudaLaunchKernelExC(&config, reinterpret_cast<const void*>(axpyParams), args));
    CUDA_CHECK(cudaStreamSynchronize(s));
    CheckAxpy(x, y, p.a, dY, "cudaLaunchKernelExC(axpyParams) with priority and cluster attributes", sum);

    // A cluster of 2 does not divide a grid of 3 blocks.
    config.gridDim = dim3(3);
    cudaError_t err = cudaLaunchKernelExC(&config, reinterpret_cast<const void*>(axpyParams), args);
    CHECKF(err != cudaSuccess, "a cluster of 2 blocks over a grid of 3 was accepted");
    CUDA_EXPECT(cudaGetLastError(), err);
    sum.AddValue(err);
  }

  // Dynamic shared memory through both APIs, and the per-thread stream.
  {
    std::vector<int> in(n);
    rng.FillInts(in, -1000000, 1000000);
    int *dIn, *dOut;
    CUDA_CHECK(cudaMalloc(&dIn, n * sizeof(int)));
    CUDA_CHECK(cudaMalloc(&dOut, n * sizeof(int)));
    CUDA_CHECK(cudaMemcpy(dIn, in.data(), n * sizeof(int), cudaMemcpyHostToDevice));
    int nArg = n;
    void* args[] = {&dIn, &dOut, &nArg};
    const int block = 192;
    CUDA_CHECK(cudaLaunchKernel(reinterpret_cast<const void*>(reverseBlocks), dim3(rtest::BlocksFor(n, block)),
                                dim3(block), args, block * sizeof(int), cudaStreamPerThread));
    CUDA_CHECK(cudaStreamSynchronize(cudaStreamPerThread));
    std::vector<int> got(n);
    CUDA_CHECK(cudaMemcpy(got.data(), dOut, n * sizeof(int), cudaMemcpyDeviceToHost));
    rtest::ExpectEqual(got, Reversed(in, block), "cudaLaunchKernel(reverseBlocks) with dynamic shared memory");

    // The C++ template, cooperative attribute, another block size.
    cudaLaunchAttribute coop;
    coop.id = cudaLaunchAttributeCooperative;
    coop.val.cooperative = 1;
    cudaLaunchConfig_t config = {};
    const int block2 = 64;
    config.gridDim = dim3(rtest::BlocksFor(n, block2));
    config.blockDim = dim3(block2);
    config.dynamicSmemBytes = block2 * sizeof(int);
    config.stream = s;
    config.attrs = &coop;
    config.numAttrs = 0;  // cooperative only if the whole grid fits; set below
    int perSm = 0;
    cudaDeviceProp prop;
    CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
    CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&perSm, reverseBlocks, block2, block2 * sizeof(int)));
    if (static_cast<long long>(perSm) * prop.multiProcessorCount >= config.gridDim.x) config.numAttrs = 1;
    CUDA_CHECK(cudaLaunchKernelEx(&config, reverseBlocks, static_cast<const int*>(dIn), dOut, n));
    CUDA_CHECK(cudaStreamSynchronize(s));
    CUDA_CHECK(cudaMemcpy(got.data(), dOut, n * sizeof(int), cudaMemcpyDeviceToHost));
    rtest::ExpectEqual(got, Reversed(in, block2), "cudaLaunchKernelEx(reverseBlocks) template");
    sum.AddVector(got);
    CUDA_CHECK(cudaFree(dIn));
    CUDA_CHECK(cudaFree(dOut));
  }

  // Compile-time cluster dimensions with <<<>>>.
  {
    const int blocks = 10;
    int* dOut;
    CUDA_CHECK(cudaMalloc(&dOut, blocks * sizeof(int)));
    clusterRank<<<blocks, 32>>>(dOut);
    CUDA_CHECK_LAUNCH();
    std::vector<int> got(blocks), want(blocks);
    CUDA_CHECK(cudaMemcpy(got.data(), dOut, blocks * sizeof(int), cudaMemcpyDeviceToHost));
    for (int b = 0; b < blocks; ++b) want[b] = (b % 2) * 1000 + 2;
    rtest::ExpectEqual(got, want, "clusterRank (__cluster_dims__(2,1,1)): rank * 1000 + cluster size");
    sum.AddVector(got);
    CUDA_CHECK(cudaFree(dOut));
  }

  CUDA_CHECK(cudaStreamDestroy(s));
  CUDA_CHECK(cudaFree(dX));
  CUDA_CHECK(cudaFree(dY));
  return rtest::Pass(sum);
}
