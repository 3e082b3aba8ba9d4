// Host kernels of tests/cuda/vector_add.cu.
#include <cmath>

#include "host_kernel_util.h"

using namespace rcuda::testk;

RCUDA_TEST_KERNEL("_Z6vecAddPKfS0_Pfi", vec_add) {
  auto a = Param<const float*>(launch, 0);
  auto b = Param<const float*>(launch, 1);
  auto c = Param<float*>(launch, 2);
  auto n = Param<int>(launch, 3);
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int i = static_cast<int>(GlobalX(launch, bi, ti));
    if (i < n) c[i] = a[i] + b[i];
  });
  return 0;
}

// tests/cuda/driver_kernels.cu's extern "C" drvVecAdd (driver_vector_add)
// is the same kernel.
static ::rcuda::testk::Registrar drv_vec_add_registrar("drvVecAdd", &::rcuda::testk::Guarded<&vec_add_body>);

RCUDA_TEST_KERNEL("_Z5saxpyfPKfPfi", saxpy) {
  auto a = Param<float>(launch, 0);
  auto x = Param<const float*>(launch, 1);
  auto y = Param<float*>(launch, 2);
  auto n = Param<int>(launch, 3);
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int i = static_cast<int>(GlobalX(launch, bi, ti));
    if (i < n) y[i] = std::fma(a, x[i], y[i]);
  });
  return 0;
}

RCUDA_TEST_KERNEL("_Z9affineIntPixii", affine_int) {
  auto data = Param<int*>(launch, 0);
  auto n = Param<long long>(launch, 1);
  auto mul = Param<int>(launch, 2);
  auto add = Param<int>(launch, 3);
  const long long stride = static_cast<long long>(GridThreadsX(launch));
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    for (long long i = GlobalX(launch, bi, ti); i < n; i += stride) data[i] = WrapMulAdd(data[i], mul, add);
  });
  return 0;
}

RCUDA_TEST_KERNEL("_Z9addCoordsPKiPiii", add_coords) {
  auto in = Param<const int*>(launch, 0);
  auto out = Param<int*>(launch, 1);
  auto rows = Param<int>(launch, 2);
  auto cols = Param<int>(launch, 3);
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int c = static_cast<int>(GlobalX(launch, bi, ti));
    int r = static_cast<int>(GlobalY(launch, bi, ti));
    if (r < rows && c < cols) out[r * cols + c] = in[r * cols + c] + r * 1000 + c;
  });
  return 0;
}
