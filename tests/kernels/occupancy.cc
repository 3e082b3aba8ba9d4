// Host kernels of tests/cuda/occupancy.cu.
#include <vector>

#include "host_kernel_util.h"

using namespace rcuda::testk;

RCUDA_TEST_KERNEL("_Z9occKernelPfif", occ_kernel) {
  auto x = Param<float*>(launch, 0);
  auto n = Param<int>(launch, 1);
  auto a = Param<float>(launch, 2);
  const long long stride = static_cast<long long>(GridThreadsX(launch));
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    for (long long i = GlobalX(launch, bi, ti); i < n; i += stride) x[i] = x[i] * a;
  });
  return 0;
}

RCUDA_TEST_KERNEL("_Z9occSharedPfi", occ_shared) {
  auto x = Param<float*>(launch, 0);
  auto n = Param<int>(launch, 1);
  const unsigned block = launch->block.x;
  if (launch->dynamic_shared_bytes < block * sizeof(float)) return kIllegalAddress;
  auto* tmp = static_cast<float*>(launch->dynamic_shared);
  PerBlock(launch, [&](rcuda_dim3 bi) {
    for (unsigned t = 0; t < block; ++t) {
      int i = static_cast<int>(bi.x * block + t);
      tmp[t] = i < n ? x[i] : 0.0f;
    }
    for (unsigned t = 0; t < block; ++t) {
      int i = static_cast<int>(bi.x * block + t);
      if (i < n) x[i] = tmp[block - 1 - t];
    }
  });
  return 0;
}
