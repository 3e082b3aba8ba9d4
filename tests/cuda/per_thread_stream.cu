// per_thread_stream: built with --default-stream per-thread, so the default
// stream (0) of each host thread is its own stream and the program calls the
// runtime's _ptsz/_ptds entry points. Several host threads each run a
// pipeline on their default stream (async copies, a slow kernel, a consumer
// kernel, synchronous cudaMemcpy) and get their own correct results; the
// legacy stream (cudaStreamLegacy) still waits for a thread's default stream;
// cudaStreamQuery/Synchronize(0) act on the calling thread's stream.
#include <thread>

#include "test_util.h"
#include "common_kernels.cuh"

constexpr int kThreads = 4;
constexpr int kRounds = 5;
constexpr int n = 50021;

static void ThreadWork(int id, uint64_t seed, std::vector<int>* results) {
  rtest::Rng rng(seed);
  int *x, *y, *pinned;
  CUDA_CHECK(cudaMalloc(&x, n * sizeof(int)));
  CUDA_CHECK(cudaMalloc(&y, n * sizeof(int)));
  CUDA_CHECK(cudaMallocHost(&pinned, n * sizeof(int)));
  std::vector<int> want(n);
  for (int round = 0; round < kRounds; ++round) {
    const int v = static_cast<int>(rng.Int(-1000000, 1000000));
    const int add = static_cast<int>(rng.Int(-1000, 1000));
    // Default stream of this thread: a slow producer, a consumer, an async
    // copy back; then a wait on stream 0, which is this thread's stream.
    spinThenFill<<<rtest::BlocksFor(n, 256), 256>>>(x, n, v, (id + 1) * 3000000LL);
    CUDA_CHECK_LAUNCH();
    addFrom<<<rtest::BlocksFor(n, 128), 128, 0, 0>>>(x, y, n, add);
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaMemcpyAsync(pinned, y, n * sizeof(int), cudaMemcpyDeviceToHost, 0));
    CUDA_CHECK(cudaStreamSynchronize(0));
    CUDA_CHECK(cudaStreamQuery(0));
    for (int i = 0; i < n; ++i) want[i] = v + i + add;
    char what[96];
    std::snprintf(what, sizeof what, "thread %d round %d: default-stream pipeline", id, round);
    rtest::ExpectEqual(pinned, want.data(), n, what);

    // A synchronous copy on the thread's default stream follows its kernels.
    const int v2 = static_cast<int>(rng.Int(-1000000, 1000000));
    spinThenFill<<<rtest::BlocksFor(n, 256), 256, 0, cudaStreamPerThread>>>(x, n, v2, 2000000LL);
    CUDA_CHECK_LAUNCH();
    std::vector<int> got(n);
    CUDA_CHECK(cudaMemcpy(got.data(), x, n * sizeof(int), cudaMemcpyDeviceToHost));
    for (int i = 0; i < n; ++i) want[i] = v2 + i;
    std::snprintf(what, sizeof what, "thread %d round %d: cudaMemcpy after a kernel", id, round);
    rtest::ExpectEqual(got, want, what);

    // The legacy stream waits for this thread's default stream.
    const int v3 = static_cast<int>(rng.Int(-1000000, 1000000));
    spinThenFill<<<rtest::BlocksFor(n, 256), 256>>>(x, n, v3, 5000000LL);
    CUDA_CHECK_LAUNCH();
    addFrom<<<rtest::BlocksFor(n, 256), 256, 0, cudaStreamLegacy>>>(x, y, n, 1);
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaStreamSynchronize(cudaStreamLegacy));
    CUDA_CHECK(cudaMemcpy(got.data(), y, n * sizeof(int), cudaMemcpyDeviceToHost));
    for (int i = 0; i < n; ++i) want[i] = v3 + i + 1;
    std::snprintf(what, sizeof what, "thread %d round %d: cudaStreamLegacy after the default stream", id, round);
    rtest::ExpectEqual(got, want, what);
    results->insert(results->end(), got.begin(), got.end());
  }
  CUDA_CHECK(cudaFree(x));
  CUDA_CHECK(cudaFree(y));
  CUDA_CHECK(cudaFreeHost(pinned));
}

int main() {
  rtest::Rng rng = rtest::Init("per_thread_stream");
  rtest::Checksum sum;
  // The main thread's default stream first (initializes the runtime here).
  int* probe;
  CUDA_CHECK(cudaMalloc(&probe, sizeof(int)));
  CUDA_CHECK(cudaMemsetAsync(probe, 0, sizeof(int), 0));
  CUDA_CHECK(cudaStreamSynchronize(0));
  CUDA_CHECK(cudaFree(probe));

  std::vector<int> results[kThreads];
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(ThreadWork, t, rng.Next(), &results[t]);
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) sum.AddVector(results[t]);
  CUDA_CHECK(cudaDeviceSynchronize());
  return rtest::Pass(sum);
}
