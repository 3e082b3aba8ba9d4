// many_small_launches: 10,000 tiny launches, each with different parameters,
// queued without any synchronization, then one copy and one check; every
// hundredth launch is a whole-array kernel with another grid shape. The
// final state depends on every launch running once, in order, with its own
// parameters. Catches launches dropped or duplicated when batched, parameter
// buffers reused before they were sent, and reordering.
#include "test_util.h"

__global__ void bumpOne(int* data, int index, int value) {
  if (threadIdx.x == 0 && blockIdx.x == 0) data[index] = data[index] * 3 + value;
}

__global__ void bumpAll(int* data, int n, int value) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) data[i] = data[i] * 5 + value + i;
}

int main() {
  rtest::Rng rng = rtest::Init("many_small_launches");
  rtest::Checksum sum;
  const int n = 997, launches = 10000;
  std::vector<int> want(n);
  rng.FillInts(want, -1000, 1000);
  int* d;
  CUDA_CHECK(cudaMalloc(&d, n * sizeof(int)));
  CUDA_CHECK(cudaMemcpy(d, want.data(), n * sizeof(int), cudaMemcpyHostToDevice));

  for (int l = 0; l < launches; ++l) {
    const int value = static_cast<int>(rng.Int(-1000, 1000));
    if (l % 100 == 99) {
      bumpAll<<<rtest::BlocksFor(n, 64), 64>>>(d, n, value);
      for (int i = 0; i < n; ++i)
        want[i] = static_cast<int>(static_cast<unsigned>(want[i]) * 5u + static_cast<unsigned>(value + i));
    } else {
      const int index = static_cast<int>(rng.Int(0, n - 1));
      bumpOne<<<1, 32>>>(d, index, value);
      want[index] = static_cast<int>(static_cast<unsigned>(want[index]) * 3u + static_cast<unsigned>(value));
    }
    CUDA_CHECK_LAUNCH();
  }
  std::vector<int> got(n);
  CUDA_CHECK(cudaMemcpy(got.data(), d, n * sizeof(int), cudaMemcpyDeviceToHost));
  rtest::ExpectEqual(got, want, "the array after 10,000 launches");
  sum.AddVector(got);
  CUDA_CHECK(cudaFree(d));
  return rtest::Pass(sum);
}
