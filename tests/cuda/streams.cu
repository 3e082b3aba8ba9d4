// streams: cudaStreamCreate, ...WithFlags (non-blocking), ...WithPriority, the
// flags and priorities read back, independent work on several streams,
// cudaStreamWaitEvent making one stream wait for a slow kernel on another,
// cudaStreamQuery before and after cudaStreamSynchronize, and
// cudaStreamDestroy while work is pending (the work still completes).
// Catches streams whose work runs out of order, waits that are ignored, and
// destroy that drops queued work.
#include "test_util.h"
#include "common_kernels.cuh"

static void ExpectFilled(const int* got, int n, int value, int add, const char* what) {
  std::vector<int> want(n);
  for (int i = 0; i < n; ++i) want[i] = value + i + add;
  rtest::ExpectEqual(got, want.data(), n, what);
}

int main() {
  rtest::Rng rng = rtest::Init("streams");
  rtest::Checksum sum;
  const long long kSlowNs = 60 * 1000 * 1000;  // 60 ms

  // Creation, flags and priorities.
  int least = 0, greatest = 0;
  CUDA_CHECK(cudaDeviceGetStreamPriorityRange(&least, &greatest));
  CHECKF(greatest <= least, "priority range: greatest %d, least %d", greatest, least);
  cudaStream_t plain, nonBlocking, high, low;
  CUDA_CHECK(cudaStreamCreate(&plain));
  CUDA_CHECK(cudaStreamCreateWithFlags(&nonBlocking, cudaStreamNonBlocking));
  CUDA_CHECK(cudaStreamCreateWithPriority(&high, cudaStreamDefault, greatest));
  CUDA_CHECK(cudaStreamCreateWithPriority(&low, cudaStreamNonBlocking, least));
  {
    unsigned flags = 99;
    CUDA_CHECK(cudaStreamGetFlags(plain, &flags));
    CHECKF(flags == cudaStreamDefault, "flags of a plain stream: %u", flags);
    CUDA_CHECK(cudaStreamGetFlags(nonBlocking, &flags));
    CHECKF(flags == cudaStreamNonBlocking, "flags of a non-blocking stream: %u", flags);
    CUDA_CHECK(cudaStreamGetFlags(low, &flags));
    CHECKF(flags == cudaStreamNonBlocking, "flags of a non-blocking low-priority stream: %u", flags);
    int priority = 99;
    CUDA_CHECK(cudaStreamGetPriority(high, &priority));
    CHECKF(priority == greatest, "priority of the high-priority stream: %d, expected %d", priority, greatest);
    CUDA_CHECK(cudaStreamGetPriority(low, &priority));
    CHECKF(priority == least, "priority of the low-priority stream: %d, expected %d", priority, least);
    CUDA_CHECK(cudaStreamGetPriority(plain, &priority));
    CHECKF(priority == 0 || priority == least, "priority of a plain stream: %d", priority);
    CUDA_CHECK(cudaStreamQuery(plain));  // an empty stream is complete
  }

  // Independent pipelines on four streams, pinned memory, one sync each.
  cudaStream_t streams[4] = {plain, nonBlocking, high, low};
  const int n = 65537;
  int* pinned[4];
  int* dIn[4];
  int* dOut[4];
  int values[4];
  for (int s = 0; s < 4; ++s) {
    CUDA_CHECK(cudaMallocHost(&pinned[s], n * sizeof(int)));
    CUDA_CHECK(cudaMalloc(&dIn[s], n * sizeof(int)));
    CUDA_CHECK(cudaMalloc(&dOut[s], n * sizeof(int)));
    values[s] = static_cast<int>(rng.Int(-1000000, 1000000));
  }
  for (int s = 0; s < 4; ++s) {
    spinThenFill<<<rtest::BlocksFor(n, 256), 256, 0, streams[s]>>>(dIn[s], n, values[s], (s + 1) * 2000000LL);
    CUDA_CHECK_LAUNCH();
    addFrom<<<rtest::BlocksFor(n, 128), 128, 0, streams[s]>>>(dIn[s], dOut[s], n, s + 1);
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaMemcpyAsync(pinned[s], dOut[s], n * sizeof(int), cudaMemcpyDeviceToHost, streams[s]));
  }
  for (int s = 3; s >= 0; --s) {
    CUDA_CHECK(cudaStreamSynchronize(streams[s]));
    CUDA_CHECK(cudaStreamQuery(streams[s]));
    char what[64];
    std::snprintf(what, sizeof what, "pipeline on stream %d", s);
    ExpectFilled(pinned[s], n, values[s], s + 1, what);
    sum.Add(pinned[s], n * sizeof(int));
  }

  // cudaStreamWaitEvent: the non-blocking stream waits for a slow kernel on
  // another stream. Without the wait it would read the zeros set before.
  {
    cudaEvent_t done;
    CUDA_CHECK(cudaEventCreateWithFlags(&done, cudaEventDisableTiming));
    CUDA_CHECK(cudaMemset(dIn[0], 0, n * sizeof(int)));
    CUDA_CHECK(cudaDeviceSynchronize());
    const int value = static_cast<int>(rng.Int(1, 1000000));
    spinThenFill<<<rtest::BlocksFor(n, 256), 256, 0, plain>>>(dIn[0], n, value, kSlowNs);
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaEventRecord(done, plain));
    // While the slow kernel runs the stream is busy, or already done if the
    // work ran before the query; any other answer is wrong.
    cudaError_t q = cudaStreamQuery(plain);
    CHECKF(q == cudaErrorNotReady || q == cudaSuccess, "cudaStreamQuery on a busy stream returned %s",
           rtest::ErrorText(q));
    if (q == cudaErrorNotReady) rtest::ClearNotReady();
    CUDA_CHECK(cudaStreamWaitEvent(nonBlocking, done, 0));
    addFrom<<<rtest::BlocksFor(n, 256), 256, 0, nonBlocking>>>(dIn[0], dOut[1], n, 7);
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaMemcpyAsync(pinned[1], dOut[1], n * sizeof(int), cudaMemcpyDeviceToHost, nonBlocking));
    CUDA_CHECK(cudaStreamSynchronize(nonBlocking));
    ExpectFilled(pinned[1], n, value, 7, "a non-blocking stream after cudaStreamWaitEvent on a slow kernel");
    sum.Add(pinned[1], n * sizeof(int));
    CUDA_CHECK(cudaEventDestroy(done));
  }

  // Destroying a stream with work pending: the work completes.
  {
    cudaStream_t doomed;
    CUDA_CHECK(cudaStreamCreate(&doomed));
    const int value = static_cast<int>(rng.Int(-1000000, 1000000));
    CUDA_CHECK(cudaMemset(dOut[2], 0, n * sizeof(int)));
    spinThenFill<<<rtest::BlocksFor(n, 256), 256, 0, doomed>>>(dIn[2], n, value, 20000000LL);
    CUDA_CHECK_LAUNCH();
    addFrom<<<rtest::BlocksFor(n, 256), 256, 0, doomed>>>(dIn[2], dOut[2], n, -3);
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaStreamDestroy(doomed));
    CUDA_CHECK(cudaDeviceSynchronize());
    std::vector<int> got(n);
    CUDA_CHECK(cudaMemcpy(got.data(), dOut[2], n * sizeof(int), cudaMemcpyDeviceToHost));
    ExpectFilled(got.data(), n, value, -3, "work queued on a stream destroyed before it ran");
    sum.AddVector(got);
  }

  for (int s = 0; s < 4; ++s) {
    CUDA_CHECK(cudaStreamDestroy(streams[s]));
    CUDA_CHECK(cudaFreeHost(pinned[s]));
    CUDA_CHECK(cudaFree(dIn[s]));
    CUDA_CHECK(cudaFree(dOut[s]));
  }
  return rtest::Pass(sum);
}
