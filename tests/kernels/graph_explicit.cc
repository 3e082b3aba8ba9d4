// Host kernels of tests/cuda/graph_explicit.cu.
#include "host_kernel_util.h"

using namespace rcuda::testk;

RCUDA_TEST_KERNEL("_Z7scaleByPiii", scale_by) {
  auto x = Param<int*>(launch, 0);
  auto n = Param<int>(launch, 1);
  auto factor = Param<int>(launch, 2);
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int i = static_cast<int>(GlobalX(launch, bi, ti));
    if (i < n) x[i] = WrapMulAdd(x[i], factor, 0);
  });
  return 0;
}

RCUDA_TEST_KERNEL("_Z10fillLinearPiiii", fill_linear) {
  auto y = Param<int*>(launch, 0);
  auto n = Param<int>(launch, 1);
  auto a = Param<int>(launch, 2);
  auto b = Param<int>(launch, 3);
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int i = static_cast<int>(GlobalX(launch, bi, ti));
    if (i < n) y[i] = WrapMulAdd(a, i, b);
  });
  return 0;
}

RCUDA_TEST_KERNEL("_Z11combineIntoPKiS0_Pii", combine_into) {
  auto x = Param<const int*>(launch, 0);
  auto y = Param<const int*>(launch, 1);
  auto z = Param<int*>(launch, 2);
  auto n = Param<int>(launch, 3);
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int i = static_cast<int>(GlobalX(launch, bi, ti));
    if (i < n) z[i] = WrapMulAdd(y[i], -1, x[i]);
  });
  return 0;
}
