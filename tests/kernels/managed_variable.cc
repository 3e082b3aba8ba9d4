// Host kernels of tests/cuda/managed_variable.cu.
#include "host_kernel_util.h"

using namespace rcuda::testk;

RCUDA_TEST_KERNEL("_Z14doubleAndCounti", double_and_count) {
  auto n = Param<int>(launch, 0);
  auto* data = Symbol<float>(launch, "mData");
  auto* counter = Symbol<int>(launch, "mCounter");
  auto* init = Symbol<const int>(launch, "mInit");
  if (!data || !counter || !init) return kInvalidSymbol;
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int i = static_cast<int>(GlobalX(launch, bi, ti));
    if (i < n) {
      data[i] = data[i] * 2.0f + static_cast<float>(init[i % 4]);
      ++*counter;
    }
  });
  return 0;
}

RCUDA_TEST_KERNEL("_Z19doubleAndCountPlainPfPii", double_and_count_plain) {
  auto data = Param<float*>(launch, 0);
  auto counter = Param<int*>(launch, 1);
  auto n = Param<int>(launch, 2);
  static const int kInit[4] = {7, 11, 13, 17};
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int i = static_cast<int>(GlobalX(launch, bi, ti));
    if (i < n) {
      data[i] = data[i] * 2.0f + static_cast<float>(kInit[i % 4]);
      ++*counter;
    }
  });
  return 0;
}
