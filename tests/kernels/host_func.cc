// Host kernels of tests/cuda/host_func.cu.
#include "host_kernel_util.h"

using namespace rcuda::testk;

RCUDA_TEST_KERNEL("_Z8addConstPiii", add_const) {
  auto x = Param<int*>(launch, 0);
  auto n = Param<int>(launch, 1);
  auto c = Param<int>(launch, 2);
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int i = static_cast<int>(GlobalX(launch, bi, ti));
    if (i < n) x[i] = WrapMulAdd(x[i], 1, c);
  });
  return 0;
}

RCUDA_TEST_KERNEL("_Z11bumpCounterPi", bump_counter) {
  auto counter = Param<int*>(launch, 0);
  if (!IsDeviceRange(launch, counter, sizeof(int))) return kIllegalAddress;
  *counter += 1;
  return 0;
}
