// Host kernels of tests/cuda/error_cases.cu.
#include "host_kernel_util.h"

using namespace rcuda::testk;

RCUDA_TEST_KERNEL("_Z9fillIndexPiii", fill_index) {
  auto out = Param<int*>(launch, 0);
  auto n = Param<int>(launch, 1);
  auto offset = Param<int>(launch, 2);
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int i = static_cast<int>(GlobalX(launch, bi, ti));
    if (i < n) out[i] = i + offset;
  });
  return 0;
}
