// Host kernels of tests/cuda/managed_memory.cu.
#include "host_kernel_util.h"

using namespace rcuda::testk;

RCUDA_TEST_KERNEL("_Z13triplePlusOnePii", triple_plus_one) {
  auto p = Param<int*>(launch, 0);
  auto n = Param<int>(launch, 1);
  if (n > 0 && !IsDeviceRange(launch, p, n * sizeof(int))) return kIllegalAddress;
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int i = static_cast<int>(GlobalX(launch, bi, ti));
    if (i < n) p[i] = WrapMulAdd(p[i], 3, 1);
  });
  return 0;
}
