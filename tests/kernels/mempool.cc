// Host kernels of tests/cuda/mempool.cu.
#include "host_kernel_util.h"

using namespace rcuda::testk;

RCUDA_TEST_KERNEL("_Z11fillPatternPjmj", fill_pattern) {
  auto p = Param<unsigned*>(launch, 0);
  auto n = Param<size_t>(launch, 1);
  auto seed = Param<unsigned>(launch, 2);
  if (!IsDeviceRange(launch, p, n * sizeof(unsigned))) return kIllegalAddress;
  // The grid-stride loop writes every element once, whatever the grid.
  for (size_t i = 0; i < n; ++i) p[i] = seed ^ static_cast<unsigned>(i * 2654435761u);
  return 0;
}
