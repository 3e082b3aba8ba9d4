// Host kernels of tests/cuda/memcpy_directions.cu.
#include "host_kernel_util.h"

using namespace rcuda::testk;

RCUDA_TEST_KERNEL("_Z6addOnePhm", add_one) {
  auto p = Param<unsigned char*>(launch, 0);
  auto n = Param<size_t>(launch, 1);
  if (!IsDeviceRange(launch, p, n)) return kIllegalAddress;
  // A grid-stride loop covers every byte exactly once whatever the grid.
  for (size_t i = 0; i < n; ++i) p[i] += 1;
  return 0;
}
