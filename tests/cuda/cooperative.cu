// cooperative: cudaLaunchCooperativeKernel with a kernel that synchronizes
// the whole grid (cooperative_groups grid.sync()) between phases: block
// partial sums, a grid-wide total, then every element centred on the mean. The
// grid is as large as can be co-resident (from the occupancy API) and smaller;
// a grid too large to be co-resident is refused with
// cudaErrorCooperativeLaunchTooLarge; the same kernel through
// cudaLaunchKernelExC with the cooperative attribute. Without a real grid
// barrier the later phases read partial sums that are not there yet.
#include <cooperative_groups.h>

#include "test_util.h"

namespace cg = cooperative_groups;

__global__ void centerOnMean(const int* in, long long* partials, long long* total, int* out, int n) {
  cg::grid_group grid = cg::this_grid();
  __shared__ long long s[256];
  long long acc = 0;
  for (long long i = grid.thread_rank(); i < n; i += grid.size()) acc += in[i];
  s[threadIdx.x] = acc;
  __syncthreads();
  for (int stride = blockDim.x / 2; stride > 0; stride /= 2) {
    if (threadIdx.x < stride) s[threadIdx.x] += s[threadIdx.x + stride];
    __syncthreads();
  }
  if (threadIdx.x == 0) partials[blockIdx.x] = s[0];
  grid.sync();
  if (grid.thread_rank() == 0) {
    long long t = 0;
    for (unsigned b = 0; b < gridDim.x; ++b) t += partials[b];
    *total = t;
  }
  grid.sync();
  const int mean = static_cast<int>(*total / n);
  for (long long i = grid.thread_rank(); i < n; i += grid.size()) out[i] = in[i] - mean;
}

int main() {
  rtest::Rng rng = rtest::Init("cooperative");
  rtest::Checksum sum;
  int dev = 0, coop = 0;
  CUDA_CHECK(cudaGetDevice(&dev));
  CUDA_CHECK(cudaDeviceGetAttribute(&coop, cudaDevAttrCooperativeLaunch, dev));
  CHECKF(coop == 1, "cudaDevAttrCooperativeLaunch is %d", coop);
  cudaDeviceProp prop;
  CUDA_CHECK(cudaGetDeviceProperties(&prop, dev));
  const int block = 256;
  int perSm = 0;
  CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&perSm, centerOnMean, block, 0));
  CHECKF(perSm >= 1, "centerOnMean: %d blocks per SM", perSm);
  const int maxBlocks = perSm * prop.multiProcessorCount;

  const int n = 1000003;
  std::vector<int> in(n);
  rng.FillInts(in, -1000000, 1000000);
  long long total = 0;
  for (int x : in) total += x;
  const int mean = static_cast<int>(total / n);
  std::vector<int> want(n);
  for (int i = 0; i < n; ++i) want[i] = in[i] - mean;

  int *dIn, *dOut;
  long long *dPartials, *dTotal;
  CUDA_CHECK(cudaMalloc(&dIn, n * sizeof(int)));
  CUDA_CHECK(cudaMalloc(&dOut, n * sizeof(int)));
  CUDA_CHECK(cudaMalloc(&dPartials, (maxBlocks + 1) * sizeof(long long)));
  CUDA_CHECK(cudaMalloc(&dTotal, sizeof(long long)));
  CUDA_CHECK(cudaMemcpy(dIn, in.data(), n * sizeof(int), cudaMemcpyHostToDevice));
  int nArg = n;
  void* args[] = {&dIn, &dPartials, &dTotal, &dOut, &nArg};

  for (int blocks : {maxBlocks, std::max(1, maxBlocks / 3), 1}) {
    CUDA_CHECK(cudaMemset(dOut, 0, n * sizeof(int)));
    CUDA_CHECK(cudaMemset(dPartials, 0xFF, (maxBlocks + 1) * sizeof(long long)));
    CUDA_CHECK(cudaLaunchCooperativeKernel(reinterpret_cast<const void*>(centerOnMean), dim3(blocks), dim3(block), args, 0, 0));
    CUDA_CHECK(cudaDeviceSynchronize());
    std::vector<int> got(n);
    long long gotTotal = 0;
    CUDA_CHECK(cudaMemcpy(got.data(), dOut, n * sizeof(int), cudaMemcpyDeviceToHost));
    CUDA_CHECK(cudaMemcpy(&gotTotal, dTotal, sizeof gotTotal, cudaMemcpyDeviceToHost));
    CHECKF(gotTotal == total, "grid of %d blocks: total %lld, expected %lld", blocks, gotTotal, total);
    char what[80];
    std::snprintf(what, sizeof what, "centerOnMean with a cooperative grid of %d blocks", blocks);
    rtest::ExpectEqual(got, want, what);
    if (blocks == 1) sum.AddVector(got);
  }

  // A grid that cannot be co-resident is refused.
  {
    cudaError_t err = cudaLaunchCooperativeKernel(reinterpret_cast<const void*>(centerOnMean), dim3(maxBlocks + 1),
                                                  dim3(block), args, 0, 0);
    CHECKF(err == cudaErrorCooperativeLaunchTooLarge, "a cooperative grid of %d blocks (at most %d fit) returned %s",
           maxBlocks + 1, maxBlocks, rtest::ErrorText(err));
    CUDA_EXPECT(cudaGetLastError(), cudaErrorCooperativeLaunchTooLarge);
  }

  // The cooperative attribute through cudaLaunchKernelExC, on a stream.
  {
    cudaStream_t s;
    CUDA_CHECK(cudaStreamCreate(&s));
    cudaLaunchAttribute attr;
    attr.id = cudaLaunchAttributeCooperative;
    attr.val.cooperative = 1;
    cudaLaunchConfig_t config = {};
    config.gridDim = dim3(std::max(1, maxBlocks / 2));
    config.blockDim = dim3(block);
    config.stream = s;
    config.attrs = &attr;
    config.numAttrs = 1;
    CUDA_CHECK(cudaMemsetAsync(dOut, 0, n * sizeof(int), s));
    CUDA_CHECK(cudaLaunchKernelExC(&config, reinterpret_cast<const void*>(centerOnMean), args));
    std::vector<int> got(n);
    CUDA_CHECK(cudaMemcpyAsync(got.data(), dOut, n * sizeof(int), cudaMemcpyDeviceToHost, s));
    CUDA_CHECK(cudaStreamSynchronize(s));
    rtest::ExpectEqual(got, want, "centerOnMean through cudaLaunchKernelExC with cudaLaunchAttributeCooperative");
    CUDA_CHECK(cudaStreamDestroy(s));
  }

  for (void* p : {(void*)dIn, (void*)dOut, (void*)dPartials, (void*)dTotal}) CUDA_CHECK(cudaFree(p));
  return rtest::Pass(sum);
}
