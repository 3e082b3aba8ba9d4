// Host kernels of tests/cuda/nvrtc_kernels.cu, whose kernels NVRTC compiles
// at run time from the source in that program (kSource): these must follow
// it. Integer arithmetic wraps, as on the GPU.
#include "host_kernel_util.h"

using namespace rcuda::testk;

// extern "C" __global__ void nvrtcAxpy(const int* x, int* y, int a, int n)
RCUDA_TEST_KERNEL("nvrtcAxpy", nvrtc_axpy) {
  auto x = Param<const int*>(launch, 0);
  auto y = Param<int*>(launch, 1);
  auto a = Param<int>(launch, 2);
  auto n = Param<int>(launch, 3);
  auto* launches = Symbol<int>(launch, "nvrtcLaunches");
  if (!launches) return kInvalidSymbol;
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int i = static_cast<int>(GlobalX(launch, bi, ti));
    if (i < n) y[i] = WrapMulAdd(x[i], a, y[i]);
    if (i == 0) ++*launches;
  });
  return 0;
}

// template <int K> __global__ void nvrtcScale(int* v, int n), K = 7
RCUDA_TEST_KERNEL("_Z10nvrtcScaleILi7EEvPii", nvrtc_scale_7) {
  auto v = Param<int*>(launch, 0);
  auto n = Param<int>(launch, 1);
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int i = static_cast<int>(GlobalX(launch, bi, ti));
    if (i < n) v[i] = WrapMulAdd(v[i], 7, 0);
  });
  return 0;
}
