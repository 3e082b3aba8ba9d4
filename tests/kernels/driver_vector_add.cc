// Host kernels of tests/cuda/driver_kernels.cu (driver_vector_add).
#include "host_kernel_util.h"

using namespace rcuda::testk;

// drvVecAdd is vecAdd under a C name: registered in vector_add.cc.

RCUDA_TEST_KERNEL("drvScaleOffset", drv_scale_offset) {
  auto a = Param<const float*>(launch, 0);
  auto c = Param<float*>(launch, 1);
  auto scale = Param<float>(launch, 2);
  auto offset = Param<long long>(launch, 3);
  auto n = Param<int>(launch, 4);
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int i = static_cast<int>(GlobalX(launch, bi, ti));
    if (i < n) c[i] = a[i] * scale + static_cast<float>(offset);
  });
  return 0;
}
