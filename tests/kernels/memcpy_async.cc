// Host kernels of tests/cuda/memcpy_async.cu.
#include "host_kernel_util.h"

using namespace rcuda::testk;

RCUDA_TEST_KERNEL("_Z6mulAddPiiii", mul_add) {
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
