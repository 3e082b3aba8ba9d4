// Host kernels of tests/cuda/memcpy_2d.cu.
#include "host_kernel_util.h"

using namespace rcuda::testk;

RCUDA_TEST_KERNEL("_Z7scale2DPfmiif", scale_2d) {
  auto base = Param<float*>(launch, 0);
  auto pitch = Param<size_t>(launch, 1);
  auto width = Param<int>(launch, 2);
  auto height = Param<int>(launch, 3);
  auto factor = Param<float>(launch, 4);
  if (height > 0 && !IsDeviceRange(launch, base, pitch * (height - 1) + width * sizeof(float))) return kIllegalAddress;
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int x = static_cast<int>(GlobalX(launch, bi, ti)), y = static_cast<int>(GlobalY(launch, bi, ti));
    if (x < width && y < height) {
      auto* row = reinterpret_cast<float*>(reinterpret_cast<char*>(base) + y * pitch);
      row[x] = row[x] * factor;
    }
  });
  return 0;
}
