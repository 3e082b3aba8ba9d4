// Host kernels of tests/cuda/texture_filter.cu: tex2D and surf2Dread/write
// through the fake driver's texture and surface objects
// (rcuda::testk::Texture, Surface in host_kernel_api.h).
#include "host_kernel_util.h"

using namespace rcuda::testk;

// CUDA's uchar4 (the kernels' mangled names say "uchar4").
struct uchar4 {
  unsigned char x, y, z, w;
};

namespace {

// The 3x3 box of boxClamp and boxWrap: the same additions in the same order.
template <class Coordinate>
int Box(const rcuda_test_launch* launch, Coordinate coordinate) {
  Texture tex(launch, Param<unsigned long long>(launch, 0));
  auto out = Param<float*>(launch, 1);
  auto w = Param<int>(launch, 2);
  auto h = Param<int>(launch, 3);
  if (w > 0 && h > 0 && !IsDeviceRange(launch, out, size_t(w) * h * sizeof(float))) return kIllegalAddress;
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int x = static_cast<int>(GlobalX(launch, bi, ti)), y = static_cast<int>(GlobalY(launch, bi, ti));
    if (x >= w || y >= h) return;
    float sum = 0.0f;
    for (int dy = -1; dy <= 1; ++dy)
      for (int dx = -1; dx <= 1; ++dx) {
        float u, v;
        coordinate(x + dx, y + dy, w, h, &u, &v);
        sum += tex.Fetch2D<float>(u, v);
      }
    out[y * w + x] = sum / 9.0f;
  });
  return 0;
}

}  // namespace

RCUDA_TEST_KERNEL("_Z8boxClampyPfii", box_clamp) {
  return Box(launch, [](int x, int y, int, int, float* u, float* v) {
    *u = x + 0.5f;
    *v = y + 0.5f;
  });
}

RCUDA_TEST_KERNEL("_Z7boxWrapyPfii", box_wrap) {
  return Box(launch, [](int x, int y, int w, int h, float* u, float* v) {
    *u = (x + 0.5f) / float(w);
    *v = (y + 0.5f) / float(h);
  });
}

RCUDA_TEST_KERNEL("_Z11boxBorderU4yP6uchar4ii", box_border_u4) {
  Texture tex(launch, Param<unsigned long long>(launch, 0));
  auto out = Param<uchar4*>(launch, 1);
  auto w = Param<int>(launch, 2);
  auto h = Param<int>(launch, 3);
  if (w > 0 && h > 0 && !IsDeviceRange(launch, out, size_t(w) * h * sizeof(uchar4))) return kIllegalAddress;
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int x = static_cast<int>(GlobalX(launch, bi, ti)), y = static_cast<int>(GlobalY(launch, bi, ti));
    if (x >= w || y >= h) return;
    int s[4] = {0, 0, 0, 0};
    for (int dy = -1; dy <= 1; ++dy)
      for (int dx = -1; dx <= 1; ++dx) {
        uchar4 v = tex.Fetch2D<uchar4>(x + dx + 0.5f, y + dy + 0.5f);
        s[0] += v.x, s[1] += v.y, s[2] += v.z, s[3] += v.w;
      }
    out[y * w + x] = uchar4{static_cast<unsigned char>(s[0] / 9), static_cast<unsigned char>(s[1] / 9),
                            static_cast<unsigned char>(s[2] / 9), static_cast<unsigned char>(s[3] / 9)};
  });
  return 0;
}

RCUDA_TEST_KERNEL("_Z12surfaceScaleyiif", surface_scale) {
  Surface surf(launch, Param<unsigned long long>(launch, 0));
  auto w = Param<int>(launch, 1);
  auto h = Param<int>(launch, 2);
  auto factor = Param<float>(launch, 3);
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int x = static_cast<int>(GlobalX(launch, bi, ti)), y = static_cast<int>(GlobalY(launch, bi, ti));
    if (x >= w || y >= h) return;
    surf.Write2D(surf.Read2D<float>(x * 4, y) * factor, x * 4, y);
  });
  return 0;
}
