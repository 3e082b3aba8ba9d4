// dynamic_shared: kernels whose shared memory is sized at launch
// (extern __shared__), with __syncthreads() phases: a tree reduction of floats
// (checked bit-exactly against a CPU reduction in the same order), a
// histogram in shared memory with a bin count chosen at run time (up to
// 12 KB), and one buffer carved into an int and a float array for block-wide
// prefix sums and maxima. Catches a dropped or wrong dynamic shared memory size
// and launches that lose the block dimension the kernels depend on.
#include "test_util.h"

__global__ void blockReduceFloat(const float* in, float* partial, int n) {
  extern __shared__ float s[];
  unsigned t = threadIdx.x;
  unsigned i = blockIdx.x * blockDim.x + t;
  s[t] = i < (unsigned)n ? in[i] : 0.0f;
  __syncthreads();
  for (unsigned stride = blockDim.x / 2; stride > 0; stride /= 2) {
    if (t < stride) s[t] = __fadd_rn(s[t], s[t + stride]);
    __syncthreads();
  }
  if (t == 0) partial[blockIdx.x] = s[0];
}

__global__ void histogramShared(const unsigned* in, unsigned* hist, int n, int bins) {
  extern __shared__ unsigned h[];
  for (int b = threadIdx.x; b < bins; b += blockDim.x) h[b] = 0;
  __syncthreads();
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) atomicAdd(&h[in[i] % bins], 1u);
  __syncthreads();
  for (int b = threadIdx.x; b < bins; b += blockDim.x)
    if (h[b]) atomicAdd(&hist[b], h[b]);
}

// Shared memory: blockDim.x ints, then blockDim.x floats. Inclusive prefix
// sums of a and running maxima of b within each block (Hillis-Steele).
__global__ void scanPairs(const int* a, const float* b, int* outA, float* outB, int n) {
  extern __shared__ int shared[];
  int* sa = shared;
  float* sb = reinterpret_cast<float*>(shared + blockDim.x);
  unsigned t = threadIdx.x;
  unsigned i = blockIdx.x * blockDim.x + t;
  sa[t] = i < (unsigned)n ? a[i] : 0;
  sb[t] = i < (unsigned)n ? b[i] : -1e30f;
  __syncthreads();
  for (unsigned off = 1; off < blockDim.x; off *= 2) {
    int va = t >= off ? sa[t - off] : 0;
    float vb = t >= off ? sb[t - off] : -1e30f;
    __syncthreads();
    sa[t] += va;
    sb[t] = fmaxf(sb[t], vb);
    __syncthreads();
  }
  if (i < (unsigned)n) {
    outA[i] = sa[t];
    outB[i] = sb[t];
  }
}

static std::vector<float> ReduceLikeGpu(const std::vector<float>& in, int block) {
  int blocks = rtest::BlocksFor(in.size(), block);
  std::vector<float> out(blocks), s(block);
  for (int b = 0; b < blocks; ++b) {
    for (int t = 0; t < block; ++t) {
      size_t i = static_cast<size_t>(b) * block + t;
      s[t] = i < in.size() ? in[i] : 0.0f;
    }
    for (int stride = block / 2; stride > 0; stride /= 2)
      for (int t = 0; t < stride; ++t) s[t] = s[t] + s[t + stride];
    out[b] = s[0];
  }
  return out;
}

int main() {
  rtest::Rng rng = rtest::Init("dynamic_shared");
  rtest::Checksum sum;

  // Float reduction, two block sizes, shared memory sized by the block.
  {
    const int n = 300007;
    std::vector<float> in(n);
    rng.FillFloats(in, -1.f, 1.f);
    float* dIn;
    float* dPartial;
    CUDA_CHECK(cudaMalloc(&dIn, n * sizeof(float)));
    CUDA_CHECK(cudaMalloc(&dPartial, rtest::BlocksFor(n, 64) * sizeof(float)));
    CUDA_CHECK(cudaMemcpy(dIn, in.data(), n * sizeof(float), cudaMemcpyHostToDevice));
    for (int block : {512, 64, 1024}) {
      int blocks = rtest::BlocksFor(n, block);
      blockReduceFloat<<<blocks, block, block * sizeof(float)>>>(dIn, dPartial, n);
      CUDA_CHECK_LAUNCH();
      std::vector<float> got(blocks);
      CUDA_CHECK(cudaMemcpy(got.data(), dPartial, blocks * sizeof(float), cudaMemcpyDeviceToHost));
      char what[64];
      std::snprintf(what, sizeof what, "blockReduceFloat block=%d", block);
      rtest::ExpectEqual(got, ReduceLikeGpu(in, block), what);
      sum.AddVector(got);
    }
    CUDA_CHECK(cudaFree(dIn));
    CUDA_CHECK(cudaFree(dPartial));
  }

  // Histogram with the bin count (and so the shared memory size) chosen at
  // run time.
  {
    const int n = 500001;
    std::vector<unsigned> in(n);
    for (auto& x : in) x = rng.U32();
    unsigned *dIn, *dHist;
    CUDA_CHECK(cudaMalloc(&dIn, n * sizeof(unsigned)));
    CUDA_CHECK(cudaMalloc(&dHist, 3001 * sizeof(unsigned)));
    CUDA_CHECK(cudaMemcpy(dIn, in.data(), n * sizeof(unsigned), cudaMemcpyHostToDevice));
    for (int bins : {100, 1000, 3001}) {
      CUDA_CHECK(cudaMemset(dHist, 0, bins * sizeof(unsigned)));
      histogramShared<<<61, 256, bins * sizeof(unsigned)>>>(dIn, dHist, n, bins);
      CUDA_CHECK_LAUNCH();
      std::vector<unsigned> got(bins), want(bins, 0);
      CUDA_CHECK(cudaMemcpy(got.data(), dHist, bins * sizeof(unsigned), cudaMemcpyDeviceToHost));
      for (unsigned x : in) want[x % bins]++;
      char what[64];
      std::snprintf(what, sizeof what, "histogramShared bins=%d", bins);
      rtest::ExpectEqual(got, want, what);
      sum.AddVector(got);
    }
    CUDA_CHECK(cudaFree(dIn));
    CUDA_CHECK(cudaFree(dHist));
  }

  // One dynamic buffer holding two arrays of different types.
  {
    const int n = 100003, block = 256;
    std::vector<int> a(n), outA(n), wantA(n);
    std::vector<float> b(n), outB(n), wantB(n);
    rng.FillInts(a, -1000, 1000);
    rng.FillFloats(b, -1000.f, 1000.f);
    int *dA, *dOutA;
    float *dB, *dOutB;
    CUDA_CHECK(cudaMalloc(&dA, n * sizeof(int)));
    CUDA_CHECK(cudaMalloc(&dOutA, n * sizeof(int)));
    CUDA_CHECK(cudaMalloc(&dB, n * sizeof(float)));
    CUDA_CHECK(cudaMalloc(&dOutB, n * sizeof(float)));
    CUDA_CHECK(cudaMemcpy(dA, a.data(), n * sizeof(int), cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemcpy(dB, b.data(), n * sizeof(float), cudaMemcpyHostToDevice));
    scanPairs<<<rtest::BlocksFor(n, block), block, block * (sizeof(int) + sizeof(float))>>>(dA, dB, dOutA, dOutB, n);
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaMemcpy(outA.data(), dOutA, n * sizeof(int), cudaMemcpyDeviceToHost));
    CUDA_CHECK(cudaMemcpy(outB.data(), dOutB, n * sizeof(float), cudaMemcpyDeviceToHost));
    for (int i = 0; i < n; ++i) {
      bool first = i % block == 0;
      wantA[i] = first ? a[i] : wantA[i - 1] + a[i];
      wantB[i] = first ? b[i] : std::max(wantB[i - 1], b[i]);
    }
    rtest::ExpectEqual(outA, wantA, "scanPairs prefix sums");
    rtest::ExpectEqual(outB, wantB, "scanPairs running maxima");
    sum.AddVector(outA);
    sum.AddVector(outB);
    CUDA_CHECK(cudaFree(dA));
    CUDA_CHECK(cudaFree(dOutA));
    CUDA_CHECK(cudaFree(dB));
    CUDA_CHECK(cudaFree(dOutB));
  }

  return rtest::Pass(sum);
}
