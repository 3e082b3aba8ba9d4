// occupancy: the cudaOccupancy* calls give sane answers that agree with each
// other and with the device's limits: active blocks per SM within the
// thread, block and shared memory limits for every block size, never more
// blocks with more shared memory; cudaOccupancyMaxPotentialBlockSize picks a
// block size with the best occupancy and a grid that fills the device (also
// the variable-shared-memory form); cudaOccupancyAvailableDynamicSMemPerBlock
// is enough for the blocks it was asked for; cluster queries. A grid-stride
// kernel launched with the suggested shape computes correctly.
#include "test_util.h"

__global__ void occKernel(float* x, int n, float a) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) x[i] = __fmul_rn(x[i], a);
}

__global__ void occShared(float* x, int n) {
  extern __shared__ float tmp[];
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  tmp[threadIdx.x] = i < n ? x[i] : 0.0f;
  __syncthreads();
  if (i < n) x[i] = tmp[blockDim.x - 1 - threadIdx.x];
}

// Dynamic shared memory of occShared for a block size.
struct SharedPerBlock {
  __host__ __device__ size_t operator()(int blockSize) const { return static_cast<size_t>(blockSize) * sizeof(float); }
};

int main() {
  rtest::Rng rng = rtest::Init("occupancy");
  rtest::Checksum sum;
  cudaDeviceProp prop;
  CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));

  // Every block size, no shared memory.
  int bestOccupancy = 0;
  for (int bs = 32; bs <= prop.maxThreadsPerBlock; bs += 32) {
    int blocks = -1;
    CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, occKernel, bs, 0));
    CHECKF(blocks >= 1, "occKernel with %d threads: %d active blocks per SM", bs, blocks);
    CHECKF(blocks * bs <= prop.maxThreadsPerMultiProcessor && blocks <= prop.maxBlocksPerMultiProcessor,
           "occKernel with %d threads: %d blocks per SM exceeds the SM's limits (%d threads, %d blocks)", bs, blocks,
           prop.maxThreadsPerMultiProcessor, prop.maxBlocksPerMultiProcessor);
    int withFlags = -1;
    CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessorWithFlags(&withFlags, occKernel, bs, 0, cudaOccupancyDefault));
    CHECKF(withFlags == blocks, "occKernel with %d threads: %d blocks with default flags, %d without flags", bs,
           withFlags, blocks);
    bestOccupancy = std::max(bestOccupancy, blocks * bs);
    sum.AddValue(blocks);
  }

  // More dynamic shared memory never allows more blocks.
  int previous = 1 << 30;
  for (size_t smem : {size_t{0}, size_t{8} << 10, size_t{16} << 10, size_t{32} << 10, size_t{48} << 10}) {
    int blocks = -1;
    CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, occShared, 256, smem));
    CHECKF(blocks >= 1 && blocks <= previous, "occShared with %zu bytes: %d blocks per SM (%d with less)", smem, blocks,
           previous);
    CHECKF(blocks * smem <= prop.sharedMemPerMultiprocessor, "occShared: %d blocks of %zu bytes exceed the SM's %zu",
           blocks, smem, prop.sharedMemPerMultiprocessor);
    previous = blocks;
    sum.AddValue(blocks);
  }

  // The suggested block size reaches the best occupancy; the grid fills the
  // device.
  int minGrid = 0, blockSize = 0;
  CUDA_CHECK(cudaOccupancyMaxPotentialBlockSize(&minGrid, &blockSize, occKernel, 0, 0));
  CHECKF(blockSize >= 32 && blockSize <= prop.maxThreadsPerBlock && blockSize % 32 == 0,
         "cudaOccupancyMaxPotentialBlockSize suggested %d threads", blockSize);
  int atBest = 0;
  CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&atBest, occKernel, blockSize, 0));
  CHECKF(atBest * blockSize == bestOccupancy, "the suggested block size %d gives %d threads per SM; the best is %d",
         blockSize, atBest * blockSize, bestOccupancy);
  CHECKF(minGrid == atBest * prop.multiProcessorCount, "suggested minimum grid %d, expected %d blocks x %d SMs", minGrid,
         atBest, prop.multiProcessorCount);
  sum.AddValue(minGrid);
  sum.AddValue(blockSize);

  int minGridVar = 0, blockSizeVar = 0;
  CUDA_CHECK(cudaOccupancyMaxPotentialBlockSizeVariableSMem(&minGridVar, &blockSizeVar, occShared, SharedPerBlock()));
  int atVar = 0;
  CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&atVar, occShared, blockSizeVar, blockSizeVar * sizeof(float)));
  CHECKF(blockSizeVar >= 32 && atVar >= 1 && minGridVar == atVar * prop.multiProcessorCount,
         "variable shared memory: block %d, grid %d, %d blocks per SM", blockSizeVar, minGridVar, atVar);
  sum.AddValue(blockSizeVar);

  size_t avail = 0;
  CUDA_CHECK(cudaOccupancyAvailableDynamicSMemPerBlock(&avail, occShared, 2, 256));
  CHECKF(avail > 0 && avail <= prop.sharedMemPerBlockOptin, "available dynamic shared memory for 2 blocks of 256: %zu",
         avail);
  int withAvail = 0;
  CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&withAvail, occShared, 256, std::min<size_t>(avail, 48 << 10)));
  CHECKF(withAvail >= 2, "with the available %zu bytes only %d blocks fit, asked for 2", avail, withAvail);

  // Clusters (compute capability 9.0 supports them).
  {
    cudaLaunchConfig_t config = {};
    config.gridDim = dim3(prop.multiProcessorCount * 2);
    config.blockDim = dim3(128);
    int clusterSize = 0;
    CUDA_CHECK(cudaOccupancyMaxPotentialClusterSize(&clusterSize, occKernel, &config));
    CHECKF(clusterSize >= 1, "cudaOccupancyMaxPotentialClusterSize gave %d", clusterSize);
    cudaLaunchAttribute cluster;
    cluster.id = cudaLaunchAttributeClusterDimension;
    cluster.val.clusterDim.x = 2;
    cluster.val.clusterDim.y = 1;
    cluster.val.clusterDim.z = 1;
    config.attrs = &cluster;
    config.numAttrs = 1;
    int clusters = 0;
    CUDA_CHECK(cudaOccupancyMaxActiveClusters(&clusters, occKernel, &config));
    CHECKF(clusters >= 1, "cudaOccupancyMaxActiveClusters gave %d for clusters of 2", clusters);
    sum.AddValue(clusterSize);
    sum.AddValue(clusters);
  }

  // The suggested shape computes correctly.
  const int n = 1000003;
  std::vector<float> x(n), want(n);
  rng.FillFloats(x, -10.f, 10.f);
  const float a = rng.Float(-2.f, 2.f);
  for (int i = 0; i < n; ++i) want[i] = x[i] * a;
  float* d;
  CUDA_CHECK(cudaMalloc(&d, n * sizeof(float)));
  CUDA_CHECK(cudaMemcpy(d, x.data(), n * sizeof(float), cudaMemcpyHostToDevice));
  occKernel<<<minGrid, blockSize>>>(d, n, a);
  CUDA_CHECK_LAUNCH();
  CUDA_CHECK(cudaMemcpy(x.data(), d, n * sizeof(float), cudaMemcpyDeviceToHost));
  rtest::ExpectEqual(x, want, "occKernel launched with the suggested grid and block");
  sum.AddVector(x);

  // And the shared-memory kernel with its suggested block size.
  std::vector<float> y(n), wantY(n);
  rng.FillFloats(y, -10.f, 10.f);
  CUDA_CHECK(cudaMemcpy(d, y.data(), n * sizeof(float), cudaMemcpyHostToDevice));
  occShared<<<rtest::BlocksFor(n, blockSizeVar), blockSizeVar, blockSizeVar * sizeof(float)>>>(d, n);
  CUDA_CHECK_LAUNCH();
  for (int i = 0; i < n; ++i) {
    int base = i - i % blockSizeVar, j = base + blockSizeVar - 1 - i % blockSizeVar;
    wantY[i] = j < n ? y[j] : 0.0f;
  }
  CUDA_CHECK(cudaMemcpy(y.data(), d, n * sizeof(float), cudaMemcpyDeviceToHost));
  rtest::ExpectEqual(y, wantY, "occShared with the suggested block size");
  sum.AddVector(y);
  CUDA_CHECK(cudaFree(d));
  return rtest::Pass(sum);
}
