// Host kernels of tests/cuda/multi_kernel_pipeline.cu.
#include <algorithm>
#include <cmath>
#include <vector>

#include "host_kernel_util.h"

using namespace rcuda::testk;

namespace {
constexpr int TILE = 16;
}

// The same sum order as the tiled kernel: k ascending, zero padding past K
// adds nothing.
RCUDA_TEST_KERNEL("_Z11matmulTiledPKfS0_Pfiii", matmul_tiled) {
  auto A = Param<const float*>(launch, 0);
  auto B = Param<const float*>(launch, 1);
  auto C = Param<float*>(launch, 2);
  auto M = Param<int>(launch, 3);
  auto N = Param<int>(launch, 4);
  auto K = Param<int>(launch, 5);
  if (launch->block.x != TILE || launch->block.y != TILE) return kInvalidValue;
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int row = static_cast<int>(bi.y * TILE + ti.y), col = static_cast<int>(bi.x * TILE + ti.x);
    if (row >= M || col >= N) return;
    float acc = 0.0f;
    for (int k = 0; k < K; ++k) acc = std::fma(A[row * K + k], B[k * N + col], acc);
    C[row * N + col] = acc;
  });
  return 0;
}

RCUDA_TEST_KERNEL("_Z8biasReluPfPKfii", bias_relu) {
  auto C = Param<float*>(launch, 0);
  auto bias = Param<const float*>(launch, 1);
  auto M = Param<int>(launch, 2);
  auto N = Param<int>(launch, 3);
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int col = static_cast<int>(GlobalX(launch, bi, ti)), row = static_cast<int>(GlobalY(launch, bi, ti));
    if (row < M && col < N) C[row * N + col] = std::fmax(C[row * N + col] + bias[col], 0.0f);
  });
  return 0;
}

// What the tiled transpose computes for the blocks the launch covers.
RCUDA_TEST_KERNEL("_Z9transposePKfPfii", transpose) {
  auto in = Param<const float*>(launch, 0);
  auto out = Param<float*>(launch, 1);
  auto rows = Param<int>(launch, 2);
  auto cols = Param<int>(launch, 3);
  PerBlock(launch, [&](rcuda_dim3 bi) {
    for (int r = static_cast<int>(bi.y) * 32; r < std::min(rows, static_cast<int>(bi.y) * 32 + 32); ++r)
      for (int c = static_cast<int>(bi.x) * 32; c < std::min(cols, static_cast<int>(bi.x) * 32 + 32); ++c)
        out[c * rows + r] = in[r * cols + c];
  });
  return 0;
}

RCUDA_TEST_KERNEL("_Z7rowSumsPKfPfi", row_sums) {
  auto in = Param<const float*>(launch, 0);
  auto sums = Param<float*>(launch, 1);
  auto cols = Param<int>(launch, 2);
  if (launch->block.x != 256) return kInvalidValue;
  std::vector<float> s(256);
  PerBlock(launch, [&](rcuda_dim3 bi) {
    const float* row = in + static_cast<size_t>(bi.x) * cols;
    for (int t = 0; t < 256; ++t) {
      float acc = 0.0f;
      for (int c = t; c < cols; c += 256) acc += row[c];
      s[t] = acc;
    }
    for (int stride = 128; stride > 0; stride /= 2)
      for (int t = 0; t < stride; ++t) s[t] += s[t + stride];
    sums[bi.x] = s[0];
  });
  return 0;
}

RCUDA_TEST_KERNEL("_Z5toIntPKfPii", to_int) {
  auto in = Param<const float*>(launch, 0);
  auto out = Param<int*>(launch, 1);
  auto n = Param<int>(launch, 2);
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int i = static_cast<int>(GlobalX(launch, bi, ti));
    if (i < n) out[i] = static_cast<int>(in[i]);
  });
  return 0;
}

RCUDA_TEST_KERNEL("_Z10jacobiStepPKiPiii", jacobi_step) {
  auto in = Param<const int*>(launch, 0);
  auto out = Param<int*>(launch, 1);
  auto H = Param<int>(launch, 2);
  auto W = Param<int>(launch, 3);
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int x = static_cast<int>(GlobalX(launch, bi, ti)), y = static_cast<int>(GlobalY(launch, bi, ti));
    if (x >= W || y >= H) return;
    int i = y * W + x;
    out[i] = (x == 0 || y == 0 || x == W - 1 || y == H - 1)
                 ? in[i]
                 : (in[i - W] + in[i + W] + in[i - 1] + in[i + 1] + 4 * in[i]) / 8;
  });
  return 0;
}
