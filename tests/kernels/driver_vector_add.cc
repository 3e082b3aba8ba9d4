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

RCUDA_TEST_KERNEL("drvTexShift", drv_tex_shift) {
  Texture tex(launch, Param<unsigned long long>(launch, 0));
  auto out = Param<float*>(launch, 1);
  auto w = Param<int>(launch, 2);
  auto h = Param<int>(launch, 3);
  if (w > 0 && h > 0 && !IsDeviceRange(launch, out, size_t(w) * h * sizeof(float))) return kIllegalAddress;
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int x = static_cast<int>(GlobalX(launch, bi, ti)), y = static_cast<int>(GlobalY(launch, bi, ti));
    if (x < w && y < h) out[y * w + x] = tex.Fetch2D<float>(x - 1 + 0.5f, y + 0.5f);
  });
  return 0;
}
