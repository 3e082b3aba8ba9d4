// Host kernels of tests/cuda/memcpy_3d.cu.
#include "memcpy_3d.h"

#include "host_kernel_util.h"

using namespace rcuda::testk;

RCUDA_TEST_KERNEL("_Z7scale3D14cudaPitchedPtriiif", scale_3d) {
  auto p = Param<PitchedPtrLayout>(launch, 0);
  auto w = Param<int>(launch, 1);
  auto h = Param<int>(launch, 2);
  auto d = Param<int>(launch, 3);
  auto factor = Param<float>(launch, 4);
  const size_t slice = p.pitch * p.ysize;
  if (d > 0 && h > 0 && !IsDeviceRange(launch, p.ptr, slice * (d - 1) + p.pitch * (h - 1) + w * sizeof(float)))
    return kIllegalAddress;
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int x = static_cast<int>(bi.x * launch->block.x + ti.x);
    int y = static_cast<int>(bi.y * launch->block.y + ti.y);
    int z = static_cast<int>(bi.z * launch->block.z + ti.z);
    if (x < w && y < h && z < d) {
      auto* row = reinterpret_cast<float*>(static_cast<char*>(p.ptr) + z * slice + y * p.pitch);
      float v = row[x] * factor;
      row[x] = v + static_cast<float>(z);
    }
  });
  return 0;
}
