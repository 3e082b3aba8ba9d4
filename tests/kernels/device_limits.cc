// Host kernels of tests/cuda/device_limits.cu.
#include <vector>

#include "host_kernel_util.h"

using namespace rcuda::testk;

// Device malloc is modelled with host memory; the test backend has no device
// heap limit to exhaust.
RCUDA_TEST_KERNEL("_Z8heapUserPxii", heap_user) {
  auto out = Param<long long*>(launch, 0);
  auto n = Param<int>(launch, 1);
  auto per_thread = Param<int>(launch, 2);
  std::vector<int> p(per_thread > 0 ? per_thread : 0);
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int i = static_cast<int>(GlobalX(launch, bi, ti));
    if (i >= n) return;
    long long s = 0;
    for (int j = 0; j < per_thread; ++j) p[j] = i + j;
    for (int j = 0; j < per_thread; ++j) s += p[j];
    out[i] = s;
  });
  return 0;
}
