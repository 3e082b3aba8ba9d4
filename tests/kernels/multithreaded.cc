// Host kernels of tests/cuda/multithreaded.cu.
#include "host_kernel_util.h"

using namespace rcuda::testk;

RCUDA_TEST_KERNEL("_Z6affinePiiii", affine) {
  auto x = Param<int*>(launch, 0);
  auto n = Param<int>(launch, 1);
  auto mul = Param<int>(launch, 2);
  auto add = Param<int>(launch, 3);
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int i = static_cast<int>(GlobalX(launch, bi, ti));
    if (i < n) x[i] = WrapMulAdd(x[i], mul, add);
  });
  return 0;
}

RCUDA_TEST_KERNEL("_Z9fillSlicePiiii", fill_slice) {
  auto shared = Param<int*>(launch, 0);
  auto offset = Param<int>(launch, 1);
  auto count = Param<int>(launch, 2);
  auto value = Param<int>(launch, 3);
  if (count > 0 && !IsDeviceRange(launch, shared + offset, count * sizeof(int))) return kIllegalAddress;
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int i = static_cast<int>(GlobalX(launch, bi, ti));
    if (i < count) shared[offset + i] = value + i;
  });
  return 0;
}
