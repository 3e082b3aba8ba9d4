// large_transfer: a 256 MiB round trip: pageable host to device, a kernel
// that changes every 64-bit word as a function of its index, device to
// pinned host and device to pageable host, each compared word for word with
// the CPU's result. Catches truncated, torn, reordered or misplaced chunks
// in a large transfer split into pieces.
#include "test_util.h"

__global__ void mixWords(unsigned long long* w, size_t n) {
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
    w[i] ^= (i + 1) * 0x9E3779B97F4A7C15ull;
}

int main() {
  rtest::Rng rng = rtest::Init("large_transfer");
  rtest::Checksum sum;
  const size_t bytes = 256ull << 20;
  const size_t words = bytes / sizeof(unsigned long long);
  std::vector<unsigned long long> host(words);
  rng.FillBytes(host.data(), bytes);

  unsigned long long* d;
  CUDA_CHECK(cudaMalloc(&d, bytes));
  CUDA_CHECK(cudaMemcpy(d, host.data(), bytes, cudaMemcpyHostToDevice));
  mixWords<<<1024, 256>>>(d, words);
  CUDA_CHECK_LAUNCH();
  for (size_t i = 0; i < words; ++i) host[i] ^= (i + 1) * 0x9E3779B97F4A7C15ull;

  unsigned long long* pinned;
  CUDA_CHECK(cudaMallocHost(&pinned, bytes));
  std::memset(pinned, 0, bytes);
  CUDA_CHECK(cudaMemcpy(pinned, d, bytes, cudaMemcpyDeviceToHost));
  for (size_t i = 0; i < words; ++i)
    if (pinned[i] != host[i]) rtest::Fail("pinned copy: word %zu of %zu (byte offset %zu) differs", i, words, i * 8);

  std::vector<unsigned long long> pageable(words, 0);
  CUDA_CHECK(cudaMemcpy(pageable.data(), d, bytes, cudaMemcpyDeviceToHost));
  for (size_t i = 0; i < words; ++i)
    if (pageable[i] != host[i]) rtest::Fail("pageable copy: word %zu of %zu (byte offset %zu) differs", i, words, i * 8);

  // Every 64th word goes into the checksum (all of them were compared).
  for (size_t i = 0; i < words; i += 64) sum.AddValue(pinned[i]);
  CUDA_CHECK(cudaFree(d));
  CUDA_CHECK(cudaFreeHost(pinned));
  return rtest::Pass(sum);
}
