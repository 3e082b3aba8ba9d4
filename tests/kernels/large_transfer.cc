// Host kernels of tests/cuda/large_transfer.cu.
#include "host_kernel_util.h"

using namespace rcuda::testk;

RCUDA_TEST_KERNEL("_Z8mixWordsPym", mix_words) {
  auto w = Param<unsigned long long*>(launch, 0);
  auto n = Param<size_t>(launch, 1);
  if (!IsDeviceRange(launch, w, n * sizeof(unsigned long long))) return kIllegalAddress;
  // The grid-stride loop touches every word once, whatever the grid.
  for (size_t i = 0; i < n; ++i) w[i] ^= (i + 1) * 0x9E3779B97F4A7C15ull;
  return 0;
}
