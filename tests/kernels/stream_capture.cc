// Host kernels of tests/cuda/stream_capture.cu.
#include "host_kernel_util.h"

using namespace rcuda::testk;

RCUDA_TEST_KERNEL("_Z10accumulatePiPKiiii", accumulate) {
  auto y = Param<int*>(launch, 0);
  auto x = Param<const int*>(launch, 1);
  auto n = Param<int>(launch, 2);
  auto a = Param<int>(launch, 3);
  auto b = Param<int>(launch, 4);
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int i = static_cast<int>(GlobalX(launch, bi, ti));
    if (i < n) y[i] = WrapMulAdd(WrapMulAdd(y[i], a, x[i]), 1, b);
  });
  return 0;
}

RCUDA_TEST_KERNEL("_Z10doubleIntoPKiPii", double_into) {
  auto x = Param<const int*>(launch, 0);
  auto z = Param<int*>(launch, 1);
  auto n = Param<int>(launch, 2);
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int i = static_cast<int>(GlobalX(launch, bi, ti));
    if (i < n) z[i] = WrapMulAdd(x[i], 2, 0);
  });
  return 0;
}

RCUDA_TEST_KERNEL("_Z7addIntoPiPKii", add_into) {
  auto y = Param<int*>(launch, 0);
  auto z = Param<const int*>(launch, 1);
  auto n = Param<int>(launch, 2);
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int i = static_cast<int>(GlobalX(launch, bi, ti));
    if (i < n) y[i] = WrapMulAdd(y[i], 1, z[i]);
  });
  return 0;
}
