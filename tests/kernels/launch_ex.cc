// Host kernels of tests/cuda/launch_ex.cu.
#include "launch_ex.h"

#include <cmath>

#include "host_kernel_util.h"

using namespace rcuda::testk;

RCUDA_TEST_KERNEL("_Z10axpyParams10AxpyParamsPKfPf", axpy_params) {
  auto p = Param<AxpyParams>(launch, 0);
  auto x = Param<const float*>(launch, 1);
  auto y = Param<float*>(launch, 2);
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int i = static_cast<int>(GlobalX(launch, bi, ti));
    if (i < p.n) y[i] = std::fma(p.a, x[i], y[i]);
  });
  return 0;
}

RCUDA_TEST_KERNEL("_Z13reverseBlocksPKiPii", reverse_blocks) {
  auto in = Param<const int*>(launch, 0);
  auto out = Param<int*>(launch, 1);
  auto n = Param<int>(launch, 2);
  const unsigned block = launch->block.x;
  if (launch->dynamic_shared_bytes < block * sizeof(int)) return kIllegalAddress;
  auto* s = static_cast<int*>(launch->dynamic_shared);
  PerBlock(launch, [&](rcuda_dim3 bi) {
    for (unsigned t = 0; t < block; ++t) {
      int i = static_cast<int>(bi.x * block + t);
      s[t] = i < n ? in[i] : -1;
    }
    for (unsigned t = 0; t < block; ++t) {
      int i = static_cast<int>(bi.x * block + t);
      if (i < n) out[i] = s[block - 1 - t];
    }
  });
  return 0;
}

// The kernel's clusters are 2x1x1 blocks (__cluster_dims__), so a block's
// rank in its cluster is blockIdx.x % 2.
RCUDA_TEST_KERNEL("_Z11clusterRankPi", cluster_rank) {
  auto out = Param<int*>(launch, 0);
  if (launch->grid.x % 2 != 0 || launch->grid.y != 1 || launch->grid.z != 1) return kInvalidValue;
  if (!IsDeviceRange(launch, out, launch->grid.x * sizeof(int))) return kIllegalAddress;
  for (uint32_t b = 0; b < launch->grid.x; ++b) out[b] = static_cast<int>(b % 2) * 1000 + 2;
  return 0;
}
