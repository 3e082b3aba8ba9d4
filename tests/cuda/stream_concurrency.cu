// stream_concurrency: work that CUDA lets run concurrently does run
// concurrently: a kernel on a non-blocking stream waits (up to 2 s) for a
// flag that a later kernel on the legacy default stream sets; the same
// between two blocking streams, and between the per-thread default streams of
// two host threads; and a host thread's copy that waits for a busy stream
// does not hold up another host thread's launch. On a GPU each wait ends in
// microseconds. A remoting layer
// that serializes these streams (or makes the legacy stream wait for a
// non-blocking one) makes the waiter time out, which a real program
// relying on concurrency would see as a hang.
// (CUDA does not promise concurrent progress in general; for one-block kernels
// on an otherwise idle GPU it is what every GPU does.)
#include <chrono>
#include <thread>

#include "test_util.h"
#include "common_kernels.cuh"

constexpr long long kTimeoutNs = 2000LL * 1000 * 1000;

static void CheckSeen(const int* result, int expect, const char* what) {
  CHECKF(result[0] == 1, "%s: the waiting kernel timed out after 2 s (flag was %d, expected %d): the two streams "
         "did not run concurrently", what, result[1], expect);
}

int main() {
  rtest::Rng rng = rtest::Init("stream_concurrency");
  rtest::Checksum sum;

  int* flag;
  int* result;
  CUDA_CHECK(cudaMalloc(&flag, 4 * sizeof(int)));
  CUDA_CHECK(cudaMalloc(&result, 8 * sizeof(int)));
  int host[2];

  // Load both kernels first: with CUDA's lazy module loading (the default),
  // a kernel's first launch loads it, and loading waits for the GPU to go
  // idle, which would serialize the very launches this program checks.
  CUDA_CHECK(cudaMemset(flag, 0, 4 * sizeof(int)));
  setFlag<<<1, 32>>>(flag, 1);
  CUDA_CHECK_LAUNCH();
  waitForFlag<<<1, 32>>>(flag, 1, result, kTimeoutNs);
  CUDA_CHECK_LAUNCH();
  CUDA_CHECK(cudaDeviceSynchronize());

  // Non-blocking stream waits for the legacy stream.
  {
    cudaStream_t nb;
    CUDA_CHECK(cudaStreamCreateWithFlags(&nb, cudaStreamNonBlocking));
    CUDA_CHECK(cudaMemset(flag, 0, 4 * sizeof(int)));
    CUDA_CHECK(cudaDeviceSynchronize());
    const int expect = static_cast<int>(rng.Int(1, 1 << 30));
    waitForFlag<<<1, 32, 0, nb>>>(flag, expect, result, kTimeoutNs);
    CUDA_CHECK_LAUNCH();
    setFlag<<<1, 32>>>(flag, expect);  // legacy stream: must not wait for nb
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaStreamSynchronize(nb));
    CUDA_CHECK(cudaMemcpy(host, result, sizeof host, cudaMemcpyDeviceToHost));
    CheckSeen(host, expect, "non-blocking stream waiting for the legacy stream");
    sum.AddValue(host[1] == expect);
    CUDA_CHECK(cudaStreamDestroy(nb));
  }

  // Two blocking streams are independent of each other.
  {
    cudaStream_t a, b;
    CUDA_CHECK(cudaStreamCreate(&a));
    CUDA_CHECK(cudaStreamCreate(&b));
    CUDA_CHECK(cudaMemset(flag, 0, 4 * sizeof(int)));
    CUDA_CHECK(cudaDeviceSynchronize());
    const int expect = static_cast<int>(rng.Int(1, 1 << 30));
    waitForFlag<<<1, 32, 0, a>>>(flag + 1, expect, result + 2, kTimeoutNs);
    CUDA_CHECK_LAUNCH();
    setFlag<<<1, 32, 0, b>>>(flag + 1, expect);
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaDeviceSynchronize());
    CUDA_CHECK(cudaMemcpy(host, result + 2, sizeof host, cudaMemcpyDeviceToHost));
    CheckSeen(host, expect, "two blocking streams");
    sum.AddValue(host[1] == expect);
    CUDA_CHECK(cudaStreamDestroy(a));
    CUDA_CHECK(cudaStreamDestroy(b));
  }

  // The per-thread default streams of two host threads.
  {
    CUDA_CHECK(cudaMemset(flag, 0, 4 * sizeof(int)));
    CUDA_CHECK(cudaDeviceSynchronize());
    const int expect = static_cast<int>(rng.Int(1, 1 << 30));
    rtest::Barrier launched(2);
    std::thread waiter([&] {
      waitForFlag<<<1, 32, 0, cudaStreamPerThread>>>(flag + 2, expect, result + 4, kTimeoutNs);
      CUDA_CHECK_LAUNCH();
      launched.Wait();
      CUDA_CHECK(cudaStreamSynchronize(cudaStreamPerThread));
    });
    std::thread setter([&] {
      launched.Wait();  // the waiter is queued first
      setFlag<<<1, 32, 0, cudaStreamPerThread>>>(flag + 2, expect);
      CUDA_CHECK_LAUNCH();
      CUDA_CHECK(cudaStreamSynchronize(cudaStreamPerThread));
    });
    waiter.join();
    setter.join();
    CUDA_CHECK(cudaMemcpy(host, result + 4, sizeof host, cudaMemcpyDeviceToHost));
    CheckSeen(host, expect, "the per-thread default streams of two host threads");
    sum.AddValue(host[1] == expect);
  }

  // A host thread's copy into pageable memory waits for its busy stream (it
  // returns once the copy is done); meanwhile another host thread launches
  // on another stream the kernel that the busy work waits for. A remoting
  // layer that serves the waiting copy before anything else makes the
  // waiter time out.
  {
    cudaStream_t a, b;
    CUDA_CHECK(cudaStreamCreateWithFlags(&a, cudaStreamNonBlocking));
    CUDA_CHECK(cudaStreamCreateWithFlags(&b, cudaStreamNonBlocking));
    CUDA_CHECK(cudaMemset(flag, 0, 4 * sizeof(int)));
    CUDA_CHECK(cudaDeviceSynchronize());
    const int expect = static_cast<int>(rng.Int(1, 1 << 30));
    waitForFlag<<<1, 32, 0, a>>>(flag + 3, expect, result + 6, kTimeoutNs);
    CUDA_CHECK_LAUNCH();
    int copied[2] = {0, 0};
    std::thread reader([&] {
      CUDA_CHECK(cudaMemcpyAsync(copied, result + 6, sizeof copied, cudaMemcpyDeviceToHost, a));
    });
    // Let the reader get into its copy first.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    setFlag<<<1, 32, 0, b>>>(flag + 3, expect);
    CUDA_CHECK_LAUNCH();
    reader.join();
    CUDA_CHECK(cudaStreamSynchronize(b));
    CheckSeen(copied, expect, "a copy waiting for its stream in one host thread, a launch in another");
    sum.AddValue(copied[1] == expect);
    CUDA_CHECK(cudaStreamDestroy(a));
    CUDA_CHECK(cudaStreamDestroy(b));
  }

  CUDA_CHECK(cudaFree(flag));
  CUDA_CHECK(cudaFree(result));
  return rtest::Pass(sum);
}
