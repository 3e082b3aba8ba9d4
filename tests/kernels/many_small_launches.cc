// Host kernels of tests/cuda/many_small_launches.cu.
#include "host_kernel_util.h"

using namespace rcuda::testk;

RCUDA_TEST_KERNEL("_Z7bumpOnePiii", bump_one) {
  auto data = Param<int*>(launch, 0);
  auto index = Param<int>(launch, 1);
  auto value = Param<int>(launch, 2);
  if (!IsDeviceRange(launch, data + index, sizeof(int))) return kIllegalAddress;
  data[index] = WrapMulAdd(data[index], 3, value);
  return 0;
}

RCUDA_TEST_KERNEL("_Z7bumpAllPiii", bump_all) {
  auto data = Param<int*>(launch, 0);
  auto n = Param<int>(launch, 1);
  auto value = Param<int>(launch, 2);
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int i = static_cast<int>(GlobalX(launch, bi, ti));
    if (i < n) data[i] = WrapMulAdd(data[i], 5, value + i);
  });
  return 0;
}
