// Host kernels of tests/cuda/host_register.cu.
#include "host_kernel_util.h"

using namespace rcuda::testk;

// Writes only through memory the GPU can reach: the session's allocations and
// pinned memory the worker mapped (a host segment's device pointer, over
// shared memory). Anything else is a fault here as a wild pointer is on a GPU.
RCUDA_TEST_KERNEL("_Z12writeThroughPiii", write_through) {
  auto p = Param<int*>(launch, 0);
  auto n = Param<int>(launch, 1);
  auto base = Param<int>(launch, 2);
  if (n > 0 && !IsDeviceRange(launch, p, static_cast<size_t>(n) * sizeof(int))) return kIllegalAddress;
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int i = static_cast<int>(GlobalX(launch, bi, ti));
    if (i < n) p[i] = base + 3 * i;
  });
  return 0;
}
