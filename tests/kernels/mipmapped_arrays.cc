// Host kernels of tests/cuda/mipmapped_arrays.cu: tex2DLod through the fake
// driver's texture objects on mipmapped arrays (rcuda::testk::Texture in
// host_kernel_api.h).
#include "host_kernel_util.h"

using namespace rcuda::testk;

RCUDA_TEST_KERNEL("_Z9lodSampleyPfiif", lod_sample) {
  Texture tex(launch, Param<unsigned long long>(launch, 0));
  auto out = Param<float*>(launch, 1);
  auto w = Param<int>(launch, 2);
  auto h = Param<int>(launch, 3);
  auto level = Param<float>(launch, 4);
  if (w > 0 && h > 0 && !IsDeviceRange(launch, out, size_t(w) * h * sizeof(float))) return kIllegalAddress;
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int x = static_cast<int>(GlobalX(launch, bi, ti)), y = static_cast<int>(GlobalY(launch, bi, ti));
    if (x >= w || y >= h) return;
    out[y * w + x] = tex.FetchLod2D<float>((x + 0.5f) / float(w), (y + 0.5f) / float(h), level);
  });
  return 0;
}
