// Host kernels of tests/cuda/cooperative.cu. A cooperative kernel's grid
// barrier (grid.sync()) is modelled by running each phase for the whole grid
// before the next phase starts.
#include <vector>

#include "host_kernel_util.h"

using namespace rcuda::testk;

RCUDA_TEST_KERNEL("_Z12centerOnMeanPKiPxS1_Pii", center_on_mean) {
  auto in = Param<const int*>(launch, 0);
  auto partials = Param<long long*>(launch, 1);
  auto total = Param<long long*>(launch, 2);
  auto out = Param<int*>(launch, 3);
  auto n = Param<int>(launch, 4);
  const uint32_t blocks = launch->grid.x, block = launch->block.x;
  if (launch->grid.y != 1 || launch->grid.z != 1 || launch->block.y != 1 || launch->block.z != 1 || block > 256)
    return kInvalidValue;
  if (!IsDeviceRange(launch, partials, blocks * sizeof(long long)) || !IsDeviceRange(launch, total, sizeof(long long)))
    return kIllegalAddress;
  const long long size = static_cast<long long>(blocks) * block;
  // Phase 1: block sums.
  for (uint32_t b = 0; b < blocks; ++b) {
    long long s = 0;
    for (uint32_t t = 0; t < block; ++t)
      for (long long i = static_cast<long long>(b) * block + t; i < n; i += size) s += in[i];
    partials[b] = s;
  }
  // grid.sync(); phase 2: the total.
  long long t = 0;
  for (uint32_t b = 0; b < blocks; ++b) t += partials[b];
  *total = t;
  // grid.sync(); phase 3.
  const int mean = static_cast<int>(*total / n);
  for (long long i = 0; i < n; ++i) out[i] = in[i] - mean;
  return 0;
}
