// Host kernels of tests/cuda/pointer_attributes.cu.
#include "host_kernel_util.h"

using namespace rcuda::testk;

RCUDA_TEST_KERNEL("_Z10writeIndexPii", write_index) {
  auto p = Param<int*>(launch, 0);
  auto n = Param<int>(launch, 1);
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int i = static_cast<int>(GlobalX(launch, bi, ti));
    if (i < n) p[i] = i ^ 0x5a5a;
  });
  return 0;
}
