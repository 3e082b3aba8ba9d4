// symbols_async: cudaMemcpyToSymbolAsync and cudaMemcpyFromSymbolAsync in
// stream order with kernels: constants changed between two kernels on one
// stream reach only the second; a pageable source may be reused as soon as
// the call returns; results read back with offsets into pinned memory after
// a sync, and into pageable memory (complete when the call returns);
// device-to-device symbol copies; a second stream ordered by an event.
#include "test_util.h"

constexpr int kScales = 16;
constexpr int kResults = 1024;
__constant__ float cScale[kScales];
__device__ int dResult[kResults];
__device__ unsigned long long dCount;

__global__ void scaleAndRecord(const float* in, float* out, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) {
    out[i] = __fmul_rn(in[i], cScale[i % kScales]);
    if (i < kResults) dResult[i] = (int)out[i];
    atomicAdd(&dCount, 1ull);
  }
}

int main() {
  rtest::Rng rng = rtest::Init("symbols_async");
  rtest::Checksum sum;
  const int n = 100003;
  std::vector<float> in(n);
  rng.FillFloats(in, -1000.f, 1000.f);
  float *dIn, *dOut1, *dOut2, *pinScale;
  CUDA_CHECK(cudaMalloc(&dIn, n * sizeof(float)));
  CUDA_CHECK(cudaMalloc(&dOut1, n * sizeof(float)));
  CUDA_CHECK(cudaMalloc(&dOut2, n * sizeof(float)));
  CUDA_CHECK(cudaMallocHost(&pinScale, 2 * kScales * sizeof(float)));
  CUDA_CHECK(cudaMemcpy(dIn, in.data(), n * sizeof(float), cudaMemcpyHostToDevice));
  cudaStream_t s, s2;
  CUDA_CHECK(cudaStreamCreate(&s));
  CUDA_CHECK(cudaStreamCreateWithFlags(&s2, cudaStreamNonBlocking));

  std::vector<float> scaleA(kScales), scaleB(kScales);
  rng.FillFloats(scaleA, -4.f, 4.f);
  rng.FillFloats(scaleB, -4.f, 4.f);
  std::copy(scaleA.begin(), scaleA.end(), pinScale);
  std::copy(scaleB.begin(), scaleB.end(), pinScale + kScales);

  // Two kernels with different constants on one stream.
  const unsigned long long zero = 0;
  CUDA_CHECK(cudaMemcpyToSymbolAsync(dCount, &zero, sizeof zero, 0, cudaMemcpyHostToDevice, s));
  CUDA_CHECK(cudaMemcpyToSymbolAsync(cScale, pinScale, kScales * sizeof(float), 0, cudaMemcpyHostToDevice, s));
  scaleAndRecord<<<rtest::BlocksFor(n, 256), 256, 0, s>>>(dIn, dOut1, n);
  CUDA_CHECK_LAUNCH();
  int* pinResults;
  CUDA_CHECK(cudaMallocHost(&pinResults, kResults * sizeof(int)));
  CUDA_CHECK(cudaMemcpyFromSymbolAsync(pinResults, dResult, 100 * sizeof(int), 50 * sizeof(int),
                                       cudaMemcpyDeviceToHost, s));
  // Second half of the constants from pageable memory, reused right after.
  std::vector<float> pageable(scaleB);
  CUDA_CHECK(cudaMemcpyToSymbolAsync(cScale, pageable.data(), kScales * sizeof(float), 0, cudaMemcpyHostToDevice, s));
  std::fill(pageable.begin(), pageable.end(), 0.0f);
  scaleAndRecord<<<rtest::BlocksFor(n, 256), 256, 0, s>>>(dIn, dOut2, n);
  CUDA_CHECK_LAUNCH();
  CUDA_CHECK(cudaStreamSynchronize(s));

  std::vector<float> out1(n), out2(n), want1(n), want2(n);
  CUDA_CHECK(cudaMemcpy(out1.data(), dOut1, n * sizeof(float), cudaMemcpyDeviceToHost));
  CUDA_CHECK(cudaMemcpy(out2.data(), dOut2, n * sizeof(float), cudaMemcpyDeviceToHost));
  for (int i = 0; i < n; ++i) {
    want1[i] = in[i] * scaleA[i % kScales];
    want2[i] = in[i] * scaleB[i % kScales];
  }
  rtest::ExpectEqual(out1, want1, "the kernel before the second cudaMemcpyToSymbolAsync");
  rtest::ExpectEqual(out2, want2, "the kernel after it (constants from a reused pageable buffer)");
  std::vector<int> wantResults(100);
  for (int i = 0; i < 100; ++i) wantResults[i] = static_cast<int>(want1[50 + i]);
  rtest::ExpectEqual(pinResults, wantResults.data(), 100, "dResult[50..149] read asynchronously after the first kernel");
  sum.AddVector(out1);
  sum.AddVector(out2);

  // Into pageable memory: complete when the call returns.
  {
    unsigned long long count = 0;
    CUDA_CHECK(cudaMemcpyFromSymbolAsync(&count, dCount, sizeof count, 0, cudaMemcpyDeviceToHost, s));
    CHECKF(count == 2ull * n, "dCount is %llu, expected %llu", count, 2ull * n);
    std::vector<int> all(kResults);
    CUDA_CHECK(cudaMemcpyFromSymbolAsync(all.data(), dResult, kResults * sizeof(int), 0, cudaMemcpyDeviceToHost, s));
    std::vector<int> want(kResults);
    for (int i = 0; i < kResults; ++i) want[i] = static_cast<int>(want2[i]);
    rtest::ExpectEqual(all, want, "dResult read into pageable memory");
    sum.AddVector(all);
  }

  // Device to device: constants from a device buffer on another stream,
  // ordered by an event; the result copied out of the symbol into a buffer.
  {
    cudaEvent_t e;
    CUDA_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
    float* dScale;
    CUDA_CHECK(cudaMalloc(&dScale, kScales * sizeof(float)));
    CUDA_CHECK(cudaMemcpyAsync(dScale, pinScale, kScales * sizeof(float), cudaMemcpyHostToDevice, s2));
    CUDA_CHECK(cudaMemcpyToSymbolAsync(cScale, dScale, kScales * sizeof(float), 0, cudaMemcpyDeviceToDevice, s2));
    CUDA_CHECK(cudaEventRecord(e, s2));
    CUDA_CHECK(cudaStreamWaitEvent(s, e, 0));
    scaleAndRecord<<<rtest::BlocksFor(n, 256), 256, 0, s>>>(dIn, dOut1, n);
    CUDA_CHECK_LAUNCH();
    int* dCopy;
    CUDA_CHECK(cudaMalloc(&dCopy, kResults * sizeof(int)));
    CUDA_CHECK(cudaMemcpyFromSymbolAsync(dCopy, dResult, kResults * sizeof(int), 0, cudaMemcpyDeviceToDevice, s));
    CUDA_CHECK(cudaStreamSynchronize(s));
    std::vector<int> got(kResults), want(kResults);
    CUDA_CHECK(cudaMemcpy(got.data(), dCopy, kResults * sizeof(int), cudaMemcpyDeviceToHost));
    for (int i = 0; i < kResults; ++i) want[i] = static_cast<int>(want1[i]);
    rtest::ExpectEqual(got, want, "constants copied device to device on another stream, results copied out D2D");
    sum.AddVector(got);
    CUDA_CHECK(cudaFree(dScale));
    CUDA_CHECK(cudaFree(dCopy));
    CUDA_CHECK(cudaEventDestroy(e));
  }

  CUDA_CHECK(cudaStreamDestroy(s));
  CUDA_CHECK(cudaStreamDestroy(s2));
  for (float* p : {dIn, dOut1, dOut2}) CUDA_CHECK(cudaFree(p));
  CUDA_CHECK(cudaFreeHost(pinScale));
  CUDA_CHECK(cudaFreeHost(pinResults));
  return rtest::Pass(sum);
}
