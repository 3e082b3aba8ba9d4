// managed_memory: cudaMallocManaged in the common pattern: the host writes,
// a kernel updates, cudaDeviceSynchronize, the host reads; repeated so that
// stale copies show; managed memory as a copy source and destination; a
// second allocation attached to a stream. A remoting layer may refuse
// cudaMallocManaged with a clean CUDA error (then the context must stay
// usable); it must never give wrong data. The checksum covers the reference
// computation done with ordinary device memory, so native and remote runs
// agree whichever path was taken.
#include "test_util.h"

__global__ void triplePlusOne(int* p, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) p[i] = p[i] * 3 + 1;
}

static std::vector<int> TriplePlusOne(std::vector<int> v) {
  for (auto& x : v) x = static_cast<int>(static_cast<unsigned>(x) * 3u + 1u);
  return v;
}

int main() {
  rtest::Rng rng = rtest::Init("managed_memory");
  rtest::Checksum sum;
  const int n = 100019;
  const size_t bytes = n * sizeof(int);
  std::vector<int> data(n);
  rng.FillInts(data, -100000, 100000);

  // The same computation with device memory, for the checksum.
  {
    int* d;
    CUDA_CHECK(cudaMalloc(&d, bytes));
    CUDA_CHECK(cudaMemcpy(d, data.data(), bytes, cudaMemcpyHostToDevice));
    triplePlusOne<<<rtest::BlocksFor(n, 256), 256>>>(d, n);
    CUDA_CHECK_LAUNCH();
    std::vector<int> got(n);
    CUDA_CHECK(cudaMemcpy(got.data(), d, bytes, cudaMemcpyDeviceToHost));
    rtest::ExpectEqual(got, TriplePlusOne(data), "triplePlusOne on device memory");
    sum.AddVector(got);
    CUDA_CHECK(cudaFree(d));
  }

  int* m = nullptr;
  cudaError_t err = cudaMallocManaged(&m, bytes, cudaMemAttachGlobal);
  if (err != cudaSuccess) {
    rtest::Note("cudaMallocManaged refused with %s", rtest::ErrorText(err));
    CUDA_EXPECT(cudaGetLastError(), err);
    CUDA_EXPECT(cudaGetLastError(), cudaSuccess);
    CUDA_CHECK(cudaDeviceSynchronize());
    int* d;
    CUDA_CHECK(cudaMalloc(&d, sizeof(int)));
    CUDA_CHECK(cudaFree(d));
    return rtest::Pass(sum);
  }
  rtest::Note("cudaMallocManaged succeeded");
  cudaPointerAttributes attr;
  CUDA_CHECK(cudaPointerGetAttributes(&attr, m));
  CHECKF(attr.type == cudaMemoryTypeManaged, "managed memory has type %d", attr.type);

  std::vector<int> want(data);
  for (int round = 0; round < 3; ++round) {
    // Host writes (every other round only part of it), kernel, sync, host reads.
    const int from = round == 1 ? n / 3 : 0;
    for (int i = from; i < n; ++i) m[i] = want[i] = static_cast<int>(rng.Int(-100000, 100000));
    triplePlusOne<<<rtest::BlocksFor(n, 256), 256>>>(m, n);
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaDeviceSynchronize());
    want = TriplePlusOne(want);
    char what[64];
    std::snprintf(what, sizeof what, "round %d: managed memory after host writes, a kernel and a sync", round);
    rtest::ExpectEqual(m, want.data(), n, what);
  }

  // Managed memory as copy source and destination.
  {
    int* d;
    CUDA_CHECK(cudaMalloc(&d, bytes));
    CUDA_CHECK(cudaMemcpy(d, m, bytes, cudaMemcpyDefault));
    triplePlusOne<<<rtest::BlocksFor(n, 256), 256>>>(d, n);
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaMemcpy(m, d, bytes, cudaMemcpyDefault));
    CUDA_CHECK(cudaDeviceSynchronize());
    want = TriplePlusOne(want);
    rtest::ExpectEqual(m, want.data(), n, "managed memory copied to device memory, processed, copied back");
    CUDA_CHECK(cudaFree(d));
  }

  // Attached to a stream: the stream's synchronization makes it visible.
  {
    cudaStream_t s;
    CUDA_CHECK(cudaStreamCreate(&s));
    int* ms = nullptr;
    CUDA_CHECK(cudaMallocManaged(&ms, bytes, cudaMemAttachHost));
    for (int i = 0; i < n; ++i) ms[i] = data[i];
    CUDA_CHECK(cudaStreamAttachMemAsync(s, ms, 0, cudaMemAttachSingle));
    triplePlusOne<<<rtest::BlocksFor(n, 256), 256, 0, s>>>(ms, n);
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaStreamSynchronize(s));
    auto wantS = TriplePlusOne(data);
    rtest::ExpectEqual(ms, wantS.data(), n, "stream-attached managed memory after cudaStreamSynchronize");
    CUDA_CHECK(cudaFree(ms));
    CUDA_CHECK(cudaStreamDestroy(s));
  }
  CUDA_CHECK(cudaFree(m));
  return rtest::Pass(sum);
}
