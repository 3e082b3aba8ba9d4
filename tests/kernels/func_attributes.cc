// Host kernels of tests/cuda/func_attributes.cu.
#include "func_attributes.h"

#include <vector>

#include "host_kernel_util.h"

using namespace rcuda::testk;

RCUDA_TEST_KERNEL("_Z12staticSharedPKiPii", static_shared) {
  auto in = Param<const int*>(launch, 0);
  auto out = Param<int*>(launch, 1);
  auto n = Param<int>(launch, 2);
  const unsigned block = launch->block.x;
  if (block > 1024) return kInvalidValue;
  std::vector<int> buf(block);
  PerBlock(launch, [&](rcuda_dim3 bi) {
    for (unsigned t = 0; t < block; ++t) {
      int i = static_cast<int>(bi.x * block + t);
      buf[t] = i < n ? in[i] : 0;
    }
    for (unsigned t = 0; t < block; ++t) {
      int i = static_cast<int>(bi.x * block + t);
      if (i < n) out[i] = buf[t] + buf[(t + 1) % block];
    }
  });
  return 0;
}

RCUDA_TEST_KERNEL("_Z7boundedPii", bounded) {
  auto out = Param<int*>(launch, 0);
  auto n = Param<int>(launch, 1);
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int i = static_cast<int>(GlobalX(launch, bi, ti));
    if (i < n) out[i] = i * 3;
  });
  return 0;
}

RCUDA_TEST_KERNEL("_Z13bigDynamicSumPKiPyii", big_dynamic_sum) {
  auto in = Param<const int*>(launch, 0);
  auto total = Param<unsigned long long*>(launch, 1);
  auto n = Param<int>(launch, 2);
  auto chunk = Param<int>(launch, 3);
  if (launch->dynamic_shared_bytes < static_cast<size_t>(chunk) * sizeof(int)) return kIllegalAddress;
  auto* stage = static_cast<int*>(launch->dynamic_shared);
  PerBlock(launch, [&](rcuda_dim3 bi) {
    long long base = static_cast<long long>(bi.x) * chunk;
    for (int j = 0; j < chunk; ++j) stage[j] = base + j < n ? in[base + j] : 0;
    unsigned long long partial = 0;
    for (int j = 0; j < chunk; ++j) partial += static_cast<unsigned long long>(static_cast<long long>(stage[j]));
    *total += partial;
  });
  return 0;
}

RCUDA_TEST_KERNEL("_Z11paramLayoutcdPi5Vec3i", param_layout) {
  auto c = Param<char>(launch, 0);
  auto d = Param<double>(launch, 1);
  auto p = Param<int*>(launch, 2);
  auto v = Param<Vec3i>(launch, 3);
  if (!IsDeviceRange(launch, p, sizeof(int))) return kIllegalAddress;
  p[0] = static_cast<int>(c) + static_cast<int>(d) + v.x * 100 + v.y * 10 + v.z;
  return 0;
}
