// Host kernels of tests/cuda/memset_async.cu.
#include "host_kernel_util.h"

using namespace rcuda::testk;

RCUDA_TEST_KERNEL("_Z8fillIotaPiii", fill_iota) {
  auto x = Param<int*>(launch, 0);
  auto n = Param<int>(launch, 1);
  auto base = Param<int>(launch, 2);
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int i = static_cast<int>(GlobalX(launch, bi, ti));
    if (i < n) x[i] = base + i;
  });
  return 0;
}

RCUDA_TEST_KERNEL("_Z9addOneIntPii", add_one_int) {
  auto x = Param<int*>(launch, 0);
  auto n = Param<int>(launch, 1);
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int i = static_cast<int>(GlobalX(launch, bi, ti));
    if (i < n) x[i] = WrapMulAdd(x[i], 1, 1);
  });
  return 0;
}
