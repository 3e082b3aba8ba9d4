// profiler: cudaProfilerStart and cudaProfilerStop around GPU work, as
// programs written for nsys and ncu call them (checking their results). Both
// succeed, with work still in flight and when repeated (starting twice has no
// effect), and the work between them computes what it should. Through rcuda
// they reach the profiler of the server's context (nsys on the worker).
#include <cuda_profiler_api.h>

#include "test_util.h"
#include "common_kernels.cuh"

int main() {
  rtest::Rng rng = rtest::Init("profiler");
  rtest::Checksum sum;
  const int n = 100003;
  const int blocks = rtest::BlocksFor(n, 256);
  int *a, *b;
  CUDA_CHECK(cudaMalloc(&a, n * sizeof(int)));
  CUDA_CHECK(cudaMalloc(&b, n * sizeof(int)));

  for (int round = 0; round < 3; ++round) {
    const int value = static_cast<int>(rng.Int(-1000000, 1000000));
    const int add = static_cast<int>(rng.Int(1, 1000));
    CUDA_CHECK(cudaProfilerStart());
    if (round == 2) CUDA_CHECK(cudaProfilerStart());  // already started: no effect
    spinThenFill<<<blocks, 256>>>(a, n, value, 2LL * 1000 * 1000);
    CUDA_CHECK_LAUNCH();
    addFrom<<<blocks, 256>>>(a, b, n, add);
    CUDA_CHECK_LAUNCH();
    // Stopped while the kernels may still run: they finish all the same.
    CUDA_CHECK(cudaProfilerStop());
    std::vector<int> got(n), want(n);
    CUDA_CHECK(cudaMemcpy(got.data(), b, n * sizeof(int), cudaMemcpyDeviceToHost));
    for (int i = 0; i < n; ++i) want[i] = value + i + add;
    char what[64];
    std::snprintf(what, sizeof what, "round %d: spinThenFill then addFrom", round);
    rtest::ExpectEqual(got, want, what);
    sum.AddVector(got);
  }
  CUDA_CHECK(cudaFree(a));
  CUDA_CHECK(cudaFree(b));
  return rtest::Pass(sum);
}
