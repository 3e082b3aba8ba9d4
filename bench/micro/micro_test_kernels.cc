// TEST EQUIPMENT: host versions of micro.cu's kernels for rcuda's test
// backend, so that CI can run the benchmark's code path (its figures on the
// test backend measure nothing about GPUs and are not reported).
#include <chrono>
#include <thread>

#include "tests/fake_driver/host_kernel_api.h"

using namespace rcuda::testk;

RCUDA_TEST_KERNEL("_Z12empty_kernelv", empty_kernel) { return 0; }

RCUDA_TEST_KERNEL("_Z5touchPi", touch) {
  int* p = Param<int*>(launch, 0);
  ForEachThread(launch, [&](rcuda_dim3, rcuda_dim3 ti) { p[ti.x] += 1; });
  return 0;
}

// waiting_session.cu's spin_for(long long ns): sleeps on the fake stream's
// worker (a GPU kernel takes no host CPU either).
RCUDA_TEST_KERNEL("_Z8spin_forx", spin_for) {
  std::this_thread::sleep_for(std::chrono::nanoseconds(Param<long long>(launch, 0)));
  return 0;
}

RCUDA_TEST_KERNELS_PLUGIN()
