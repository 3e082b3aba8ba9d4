// pinned_copies: copies between device memory and pinned memory from
// cudaMallocHost/cudaHostAlloc, synchronous and asynchronous, whole buffers
// and ranges inside them; an asynchronous device-to-host copy queued behind a
// slow kernel returns before the kernel is done and delivers the kernel's
// output after the synchronization; mapped pinned memory written by a kernel
// through its device pointer (zero-copy).
//
// Through rcuda over shared memory these are host segments the worker maps
// (protocol/host_segment.h): copies travel as (segment, offset, size) and the
// driver moves the bytes. Over TCP, cudaHostGetDevicePointer may be refused
// with a clean error; RCUDA_TEST_REQUIRE_ZERO_COPY=1 makes the refusal a
// failure (set where the session runs over shared memory).
#include <cstdlib>

#include "test_util.h"
#include "common_kernels.cuh"

int main() {
  rtest::Rng rng = rtest::Init("pinned_copies");
  rtest::Checksum sum;
  const int n = (1 << 20) + 13;  // 4 MiB and a bit: not a whole number of pages
  const size_t bytes = n * sizeof(int);
  const int blocks = rtest::BlocksFor(n, 256);

  int *in, *out, *d;
  CUDA_CHECK(cudaMallocHost(&in, bytes));
  CUDA_CHECK(cudaHostAlloc(&out, bytes, cudaHostAllocDefault));
  CUDA_CHECK(cudaMalloc(&d, bytes));
  std::vector<int> src(n);
  rng.FillInts(src, -1000000, 1000000);
  std::copy(src.begin(), src.end(), in);

  // Synchronous round trip of the whole buffer.
  std::memset(out, 0, bytes);
  CUDA_CHECK(cudaMemcpy(d, in, bytes, cudaMemcpyHostToDevice));
  CUDA_CHECK(cudaMemcpy(out, d, bytes, cudaMemcpyDeviceToHost));
  rtest::ExpectEqual(out, src.data(), n, "synchronous pinned round trip");
  sum.Add(out, bytes);

  // Ranges inside the buffers, at odd offsets on both sides.
  {
    const int count = 4099, from = 1001, to = 77, at = 333;
    std::memset(out, 0, bytes);
    CUDA_CHECK(cudaMemcpy(d + at, in + from, count * sizeof(int), cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemcpy(out + to, d + at, count * sizeof(int), cudaMemcpyDeviceToHost));
    rtest::ExpectEqual(out + to, src.data() + from, count, "pinned ranges at offsets");
    CHECKF(out[to - 1] == 0 && out[to + count] == 0, "a copy wrote outside its range");
  }

  // Asynchronous: behind a slow kernel on the stream, the copy into pinned
  // memory returns at once and lands after the kernel.
  cudaStream_t s;
  CUDA_CHECK(cudaStreamCreate(&s));
  {
    std::memset(out, 0, bytes);
    spinThenFill<<<blocks, 256, 0, s>>>(d, n, 7, 300LL * 1000 * 1000);
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaMemcpyAsync(out, d, bytes, cudaMemcpyDeviceToHost, s));
    CUDA_EXPECT(cudaStreamQuery(s), cudaErrorNotReady);
    CUDA_CHECK(cudaStreamSynchronize(s));
    std::vector<int> want(n);
    for (int i = 0; i < n; ++i) want[i] = 7 + i;
    rtest::ExpectEqual(out, want.data(), n, "asynchronous D2H behind a slow kernel");
    sum.Add(out, bytes);
  }

  // Asynchronous H2D, a kernel on its result, asynchronous D2H, one stream.
  {
    int* d2;
    CUDA_CHECK(cudaMalloc(&d2, bytes));
    std::memset(out, 0, bytes);
    CUDA_CHECK(cudaMemcpyAsync(d, in, bytes, cudaMemcpyHostToDevice, s));
    addFrom<<<blocks, 256, 0, s>>>(d, d2, n, 5);
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaMemcpyAsync(out, d2, bytes, cudaMemcpyDeviceToHost, s));
    CUDA_CHECK(cudaStreamSynchronize(s));
    std::vector<int> want(src);
    for (auto& x : want) x += 5;
    rtest::ExpectEqual(out, want.data(), n, "asynchronous H2D, kernel, D2H");
    sum.Add(out, bytes);
    CUDA_CHECK(cudaFree(d2));
  }

  // Mapped pinned memory: a kernel writes it through its device pointer.
  {
    const int m = 5000;
    int* mapped;
    CUDA_CHECK(cudaHostAlloc(&mapped, m * sizeof(int), cudaHostAllocMapped));
    std::memset(mapped, 0, m * sizeof(int));
    int* through = nullptr;
    cudaError_t e = cudaHostGetDevicePointer(reinterpret_cast<void**>(&through), mapped, 0);
    const char* require = std::getenv("RCUDA_TEST_REQUIRE_ZERO_COPY");
    if (e != cudaSuccess) {
      CHECKF(!(require && *require == '1'), "cudaHostGetDevicePointer refused: %s", rtest::ErrorText(e));
      rtest::Note("cudaHostGetDevicePointer refused with %s", rtest::ErrorText(e));
      CUDA_EXPECT(cudaGetLastError(), e);
    } else {
      spinThenFill<<<rtest::BlocksFor(m, 256), 256>>>(through, m, 40, 0);
      CUDA_CHECK_LAUNCH();
      CUDA_CHECK(cudaDeviceSynchronize());
      std::vector<int> want(m);
      for (int i = 0; i < m; ++i) want[i] = 40 + i;
      rtest::ExpectEqual(mapped, want.data(), m, "kernel writing mapped pinned memory");
    }
    CUDA_CHECK(cudaFreeHost(mapped));
  }

  CUDA_CHECK(cudaStreamDestroy(s));
  CUDA_CHECK(cudaFree(d));
  CUDA_CHECK(cudaFreeHost(in));
  CUDA_CHECK(cudaFreeHost(out));
  return rtest::Pass(sum);
}
