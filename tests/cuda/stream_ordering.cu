// stream_ordering: the legacy default stream's implicit ordering. Work on the
// legacy stream (stream 0, cudaStreamLegacy, synchronous cudaMemcpy) waits
// for all earlier work on blocking streams (created without
// cudaStreamNonBlocking, and the per-thread stream), and later work on
// blocking streams waits for it. Each step reads what a slow kernel on
// another stream wrote; if an implicit wait is missing it reads stale data.
// Non-blocking streams are used with explicit synchronization only
// (their concurrency is stream_concurrency's subject).
#include "test_util.h"
#include "common_kernels.cuh"

constexpr long long kSlowNs = 50 * 1000 * 1000;  // 50 ms
constexpr int n = 100003;

static void Check(const std::vector<int>& got, int value, int add, const char* what, rtest::Checksum& sum) {
  std::vector<int> want(n);
  for (int i = 0; i < n; ++i) want[i] = value + i + add;
  rtest::ExpectEqual(got, want, what);
  sum.AddVector(got);
}

int main() {
  rtest::Rng rng = rtest::Init("stream_ordering");
  rtest::Checksum sum;
  const int blocks = rtest::BlocksFor(n, 256);

  cudaStream_t s1, s2, nb;
  CUDA_CHECK(cudaStreamCreate(&s1));
  CUDA_CHECK(cudaStreamCreate(&s2));
  CUDA_CHECK(cudaStreamCreateWithFlags(&nb, cudaStreamNonBlocking));
  int *x, *y, *z;
  CUDA_CHECK(cudaMalloc(&x, n * sizeof(int)));
  CUDA_CHECK(cudaMalloc(&y, n * sizeof(int)));
  CUDA_CHECK(cudaMalloc(&z, n * sizeof(int)));
  std::vector<int> host(n);

  auto reset = [&] {
    CUDA_CHECK(cudaMemset(x, 0, n * sizeof(int)));
    CUDA_CHECK(cudaMemset(y, 0, n * sizeof(int)));
    CUDA_CHECK(cudaMemset(z, 0, n * sizeof(int)));
    CUDA_CHECK(cudaDeviceSynchronize());
  };

  // blocking stream -> legacy stream -> another blocking stream.
  {
    reset();
    const int v = static_cast<int>(rng.Int(-1000000, 1000000));
    spinThenFill<<<blocks, 256, 0, s1>>>(x, n, v, kSlowNs);
    CUDA_CHECK_LAUNCH();
    addFrom<<<blocks, 256>>>(x, y, n, 1);  // legacy stream: waits for s1
    CUDA_CHECK_LAUNCH();
    addFrom<<<blocks, 256, 0, s2>>>(y, z, n, 1);  // s2: waits for the legacy stream
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaStreamSynchronize(s2));
    CUDA_CHECK(cudaMemcpyAsync(host.data(), z, n * sizeof(int), cudaMemcpyDeviceToHost, s2));
    CUDA_CHECK(cudaStreamSynchronize(s2));
    Check(host, v, 2, "blocking stream, then legacy stream, then blocking stream", sum);
  }

  // legacy stream (explicit cudaStreamLegacy) -> blocking stream.
  {
    reset();
    const int v = static_cast<int>(rng.Int(-1000000, 1000000));
    spinThenFill<<<blocks, 256, 0, cudaStreamLegacy>>>(x, n, v, kSlowNs);
    CUDA_CHECK_LAUNCH();
    addFrom<<<blocks, 256, 0, s1>>>(x, y, n, 5);
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaMemcpyAsync(host.data(), y, n * sizeof(int), cudaMemcpyDeviceToHost, s1));
    CUDA_CHECK(cudaStreamSynchronize(s1));
    Check(host, v, 5, "cudaStreamLegacy, then a blocking stream", sum);
  }

  // A synchronous cudaMemcpy (legacy stream) right after a slow kernel on a
  // blocking stream sees its result, without any explicit synchronization.
  {
    reset();
    const int v = static_cast<int>(rng.Int(-1000000, 1000000));
    spinThenFill<<<blocks, 256, 0, s2>>>(x, n, v, kSlowNs);
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaMemcpy(host.data(), x, n * sizeof(int), cudaMemcpyDeviceToHost));
    Check(host, v, 0, "cudaMemcpy after a kernel on a blocking stream", sum);
  }

  // The per-thread default stream handle is a blocking stream too.
  {
    reset();
    const int v = static_cast<int>(rng.Int(-1000000, 1000000));
    spinThenFill<<<blocks, 256, 0, cudaStreamPerThread>>>(x, n, v, kSlowNs);
    CUDA_CHECK_LAUNCH();
    addFrom<<<blocks, 256, 0, 0>>>(x, y, n, 9);
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaMemcpy(host.data(), y, n * sizeof(int), cudaMemcpyDeviceToHost));
    Check(host, v, 9, "cudaStreamPerThread, then the legacy stream", sum);
  }

  // A cudaMemset (legacy stream) after a kernel on a blocking stream comes
  // after it: the final content is the memset's.
  {
    reset();
    spinThenFill<<<blocks, 256, 0, s1>>>(x, n, 12345, kSlowNs);
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaMemset(x, 0, n * sizeof(int)));
    CUDA_CHECK(cudaDeviceSynchronize());
    CUDA_CHECK(cudaMemcpy(host.data(), x, n * sizeof(int), cudaMemcpyDeviceToHost));
    rtest::ExpectBytes(host.data(), n * sizeof(int), 0, "cudaMemset after a kernel on a blocking stream");
  }

  // Non-blocking stream with explicit synchronization: ordered within itself.
  {
    reset();
    const int v = static_cast<int>(rng.Int(-1000000, 1000000));
    spinThenFill<<<blocks, 256, 0, nb>>>(x, n, v, kSlowNs / 5);
    CUDA_CHECK_LAUNCH();
    addFrom<<<blocks, 256, 0, nb>>>(x, z, n, -4);
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaStreamSynchronize(nb));
    CUDA_CHECK(cudaMemcpy(host.data(), z, n * sizeof(int), cudaMemcpyDeviceToHost));
    Check(host, v, -4, "two kernels on a non-blocking stream", sum);
  }

  CUDA_CHECK(cudaStreamDestroy(s1));
  CUDA_CHECK(cudaStreamDestroy(s2));
  CUDA_CHECK(cudaStreamDestroy(nb));
  CUDA_CHECK(cudaFree(x));
  CUDA_CHECK(cudaFree(y));
  CUDA_CHECK(cudaFree(z));
  return rtest::Pass(sum);
}
