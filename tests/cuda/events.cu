// events: cudaEventCreate, ...WithFlags (blocking sync, disable timing),
// cudaEventRecord, ...WithFlags, cudaEventQuery, cudaEventSynchronize,
// cudaEventElapsedTime and cudaEventDestroy. Elapsed times are GPU times:
// a 40 ms kernel between two events measures about 40 ms and more than a
// 5 ms one; times add up across three events and change sign when the events
// are swapped. Timing is refused for events created without it.
#include "test_util.h"

__global__ void spinKernel(int* out, long long spinNs, int value) {
  SpinForNs(spinNs);
  if (blockIdx.x == 0 && threadIdx.x == 0) *out = value;
}

int main() {
  rtest::Rng rng = rtest::Init("events");
  rtest::Checksum sum;
  const long long kShortNs = 5LL * 1000 * 1000, kLongNs = 40LL * 1000 * 1000;

  cudaStream_t stream;
  CUDA_CHECK(cudaStreamCreate(&stream));
  int* d;
  CUDA_CHECK(cudaMalloc(&d, 4 * sizeof(int)));
  CUDA_CHECK(cudaMemset(d, 0, 4 * sizeof(int)));

  cudaEvent_t e0, e1, e2, noTiming, blocking;
  CUDA_CHECK(cudaEventCreate(&e0));
  CUDA_CHECK(cudaEventCreateWithFlags(&e1, cudaEventDefault));
  CUDA_CHECK(cudaEventCreate(&e2));
  CUDA_CHECK(cudaEventCreateWithFlags(&noTiming, cudaEventDisableTiming));
  CUDA_CHECK(cudaEventCreateWithFlags(&blocking, cudaEventBlockingSync));

  // An event that was never recorded is complete.
  CUDA_CHECK(cudaEventQuery(e0));

  // Elapsed times measure the GPU work between the events. Warm up first so
  // that first-launch costs are not inside the measurement.
  spinKernel<<<1, 32, 0, stream>>>(d, 0, 0);
  CUDA_CHECK_LAUNCH();
  CUDA_CHECK(cudaStreamSynchronize(stream));
  const int v1 = static_cast<int>(rng.Int(1, 1 << 30)), v2 = static_cast<int>(rng.Int(1, 1 << 30));
  CUDA_CHECK(cudaEventRecord(e0, stream));
  spinKernel<<<2, 64, 0, stream>>>(d, kShortNs, v1);
  CUDA_CHECK_LAUNCH();
  CUDA_CHECK(cudaEventRecordWithFlags(e1, stream, cudaEventRecordDefault));
  spinKernel<<<2, 64, 0, stream>>>(d + 1, kLongNs, v2);
  CUDA_CHECK_LAUNCH();
  CUDA_CHECK(cudaEventRecord(e2, stream));
  // Not finished yet (or already finished, if the work ran that fast): any
  // other answer is wrong, and a time for an unfinished event is refused.
  cudaError_t q = cudaEventQuery(e2);
  CHECKF(q == cudaSuccess || q == cudaErrorNotReady, "cudaEventQuery on a pending event returned %s",
         rtest::ErrorText(q));
  if (q == cudaErrorNotReady) {
    rtest::ClearNotReady();
    float early = 0;
    cudaError_t e = cudaEventElapsedTime(&early, e0, e2);
    CHECKF(e == cudaErrorNotReady || e == cudaSuccess, "cudaEventElapsedTime on a pending event returned %s",
           rtest::ErrorText(e));
    if (e == cudaErrorNotReady) rtest::ClearNotReady();
  }
  CUDA_CHECK(cudaEventSynchronize(e2));
  CUDA_CHECK(cudaEventQuery(e2));
  CUDA_CHECK(cudaEventQuery(e1));

  float t01 = 0, t12 = 0, t02 = 0, t20 = 0;
  CUDA_CHECK(cudaEventElapsedTime(&t01, e0, e1));
  CUDA_CHECK(cudaEventElapsedTime(&t12, e1, e2));
  CUDA_CHECK(cudaEventElapsedTime(&t02, e0, e2));
  CUDA_CHECK(cudaEventElapsedTime(&t20, e2, e0));
  rtest::Note("short kernel %.3f ms, long kernel %.3f ms", t01, t12);
  CHECKF(t01 >= 0.9f * kShortNs / 1e6f && t01 < 1000.f, "a 5 ms kernel measured %.3f ms", t01);
  CHECKF(t12 >= 0.9f * kLongNs / 1e6f && t12 < 1000.f, "a 40 ms kernel measured %.3f ms", t12);
  // Longer than the short one, not a ratio: each bound above already ties a
  // time to its kernel, and a ratio failed on the fake driver when a loaded
  // host delayed the short kernel's thread by 20 ms.
  CHECKF(t12 > t01, "a 40 ms kernel measured %.3f ms, a 5 ms one %.3f ms", t12, t01);
  CHECKF(std::fabs(t02 - (t01 + t12)) < 0.05f, "elapsed(e0,e2) = %.4f ms but elapsed(e0,e1) + elapsed(e1,e2) = %.4f ms",
         t02, t01 + t12);
  CHECKF(std::fabs(t20 + t02) < 0.001f, "elapsed(e2,e0) = %.4f ms, elapsed(e0,e2) = %.4f ms", t20, t02);

  // Events without timing: recordable, synchronizable, but no times.
  CUDA_CHECK(cudaEventRecord(noTiming, stream));
  CUDA_CHECK(cudaEventSynchronize(noTiming));
  float t = 0;
  CUDA_EXPECT(cudaEventElapsedTime(&t, e0, noTiming), cudaErrorInvalidResourceHandle);
  CUDA_EXPECT(cudaGetLastError(), cudaErrorInvalidResourceHandle);

  // A blocking-sync event: when cudaEventSynchronize returns, the kernel
  // before it has finished and its result is there.
  const int v3 = static_cast<int>(rng.Int(1, 1 << 30));
  spinKernel<<<1, 32, 0, stream>>>(d + 2, 10LL * 1000 * 1000, v3);
  CUDA_CHECK_LAUNCH();
  CUDA_CHECK(cudaEventRecord(blocking, stream));
  CUDA_CHECK(cudaEventSynchronize(blocking));
  CUDA_CHECK(cudaEventQuery(blocking));

  // Re-recording an event moves it: elapsed(e0, e1) now spans a 20 ms kernel.
  CUDA_CHECK(cudaEventRecord(e0, stream));
  spinKernel<<<1, 32, 0, stream>>>(d + 3, 20LL * 1000 * 1000, v3 ^ 1);
  CUDA_CHECK_LAUNCH();
  CUDA_CHECK(cudaEventRecord(e1, stream));
  CUDA_CHECK(cudaEventSynchronize(e1));
  CUDA_CHECK(cudaEventElapsedTime(&t01, e0, e1));
  CHECKF(t01 >= 18.f && t01 < 1000.f, "after re-recording, a 20 ms kernel measured %.3f ms", t01);

  int got[4];
  CUDA_CHECK(cudaMemcpy(got, d, sizeof got, cudaMemcpyDeviceToHost));
  const int want[4] = {v1, v2, v3, v3 ^ 1};
  rtest::ExpectEqual(got, want, 4, "values written by the timed kernels");
  sum.Add(got, sizeof got);

  for (cudaEvent_t e : {e0, e1, e2, noTiming, blocking}) CUDA_CHECK(cudaEventDestroy(e));
  CUDA_CHECK(cudaStreamDestroy(stream));
  CUDA_CHECK(cudaFree(d));
  return rtest::Pass(sum);
}
