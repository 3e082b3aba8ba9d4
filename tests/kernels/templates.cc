// Host kernels of tests/cuda/templates.cu: one per instantiation.
#include "templates.h"

#include <vector>

#include "host_kernel_util.h"

using namespace rcuda::testk;

namespace {

template <typename T, int K>
int ScaleAdd(const rcuda_test_launch* launch) {
  auto in = Param<const T*>(launch, 0);
  auto out = Param<T*>(launch, 1);
  auto factor = Param<T>(launch, 2);
  auto n = Param<int>(launch, 3);
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int i = static_cast<int>(GlobalX(launch, bi, ti));
    // The program's inputs make every product and sum exact, so the GPU's
    // fused multiply-add and this give the same bits.
    if (i < n) out[i] = in[i] * factor + T(K);
  });
  return 0;
}

template <typename T, typename Op>
int Transform(const rcuda_test_launch* launch) {
  auto in = Param<const T*>(launch, 0);
  auto out = Param<T*>(launch, 1);
  auto n = Param<int>(launch, 2);
  auto op = Param<Op>(launch, 3);
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int i = static_cast<int>(GlobalX(launch, bi, ti));
    if (i < n) out[i] = op(in[i]);
  });
  return 0;
}

template <int BLOCK>
int BlockSum(const rcuda_test_launch* launch) {
  auto in = Param<const int*>(launch, 0);
  auto out = Param<int*>(launch, 1);
  auto n = Param<int>(launch, 2);
  // The GPU kernel assumes blockDim.x == BLOCK (the program launches it so).
  if (launch->block.x != BLOCK || launch->block.y != 1 || launch->block.z != 1) return kInvalidValue;
  std::vector<int> partial(BLOCK);
  PerBlock(launch, [&](rcuda_dim3 bi) {
    for (int t = 0; t < BLOCK; ++t) {
      int i = static_cast<int>(bi.x) * BLOCK + t;
      partial[t] = i < n ? in[i] : 0;
    }
    for (int stride = BLOCK / 2; stride > 0; stride /= 2)
      for (int t = 0; t < stride; ++t)
        partial[t] = static_cast<int>(static_cast<unsigned>(partial[t]) + static_cast<unsigned>(partial[t + stride]));
    out[bi.x] = partial[0];
  });
  return 0;
}

}  // namespace

RCUDA_TEST_KERNEL("_Z8scaleAddIiLi3EEvPKT_PS0_S0_i", scale_add_int_3) { return ScaleAdd<int, 3>(launch); }
RCUDA_TEST_KERNEL("_Z8scaleAddIfLin1EEvPKT_PS0_S0_i", scale_add_float_m1) { return ScaleAdd<float, -1>(launch); }
RCUDA_TEST_KERNEL("_Z8scaleAddIdLi7EEvPKT_PS0_S0_i", scale_add_double_7) { return ScaleAdd<double, 7>(launch); }
RCUDA_TEST_KERNEL("_Z8scaleAddIxLi100EEvPKT_PS0_S0_i", scale_add_ll_100) { return ScaleAdd<long long, 100>(launch); }

RCUDA_TEST_KERNEL("_Z9transformIi6SquareEvPKT_PS1_iT0_", transform_square) { return Transform<int, Square>(launch); }
RCUDA_TEST_KERNEL("_Z9transformIi8AddConstEvPKT_PS1_iT0_", transform_add_const) {
  return Transform<int, AddConst>(launch);
}
RCUDA_TEST_KERNEL("_Z9transformIf5ClampEvPKT_PS1_iT0_", transform_clamp) { return Transform<float, Clamp>(launch); }

RCUDA_TEST_KERNEL("_Z7sumArgsIJisxcEEvPxDpT_", sum_args_isxc) {
  auto out = Param<long long*>(launch, 0);
  long long s = 0LL + Param<int>(launch, 1) + Param<short>(launch, 2) + Param<long long>(launch, 3) +
                Param<char>(launch, 4);
  ForEachThread(launch, [&](rcuda_dim3, rcuda_dim3 ti) {
    if (ti.x == 0) *out = s;
  });
  return 0;
}

RCUDA_TEST_KERNEL("_Z7sumArgsIJhEEvPxDpT_", sum_args_h) {
  auto out = Param<long long*>(launch, 0);
  long long s = 0LL + Param<unsigned char>(launch, 1);
  ForEachThread(launch, [&](rcuda_dim3, rcuda_dim3 ti) {
    if (ti.x == 0) *out = s;
  });
  return 0;
}

RCUDA_TEST_KERNEL("_Z7sumArgsIJEEvPxDpT_", sum_args_empty) {
  if (launch->param_count != 1) return kInvalidValue;
  auto out = Param<long long*>(launch, 0);
  ForEachThread(launch, [&](rcuda_dim3, rcuda_dim3 ti) {
    if (ti.x == 0) *out = 0;
  });
  return 0;
}

RCUDA_TEST_KERNEL("_Z8blockSumILi64EEvPKiPii", block_sum_64) { return BlockSum<64>(launch); }
RCUDA_TEST_KERNEL("_Z8blockSumILi256EEvPKiPii", block_sum_256) { return BlockSum<256>(launch); }
