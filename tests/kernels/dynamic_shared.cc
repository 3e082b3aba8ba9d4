// Host kernels of tests/cuda/dynamic_shared.cu. They use the dynamic shared
// memory buffer the backend provides per block, and run each
// __syncthreads() phase for all threads of the block before the next.
#include <algorithm>
#include <cmath>
#include <vector>

#include "host_kernel_util.h"

using namespace rcuda::testk;

RCUDA_TEST_KERNEL("_Z16blockReduceFloatPKfPfi", block_reduce_float) {
  auto in = Param<const float*>(launch, 0);
  auto partial = Param<float*>(launch, 1);
  auto n = Param<int>(launch, 2);
  const unsigned block = launch->block.x;
  if (launch->dynamic_shared_bytes < block * sizeof(float)) return kIllegalAddress;  // the GPU would read past it
  auto* s = static_cast<float*>(launch->dynamic_shared);
  PerBlock(launch, [&](rcuda_dim3 bi) {
    for (unsigned t = 0; t < block; ++t) {
      unsigned i = bi.x * block + t;
      s[t] = i < static_cast<unsigned>(n) ? in[i] : 0.0f;
    }
    for (unsigned stride = block / 2; stride > 0; stride /= 2)
      for (unsigned t = 0; t < stride; ++t) s[t] = s[t] + s[t + stride];
    partial[bi.x] = s[0];
  });
  return 0;
}

RCUDA_TEST_KERNEL("_Z15histogramSharedPKjPjii", histogram_shared) {
  auto in = Param<const unsigned*>(launch, 0);
  auto hist = Param<unsigned*>(launch, 1);
  auto n = Param<int>(launch, 2);
  auto bins = Param<int>(launch, 3);
  if (launch->dynamic_shared_bytes < bins * sizeof(unsigned)) return kIllegalAddress;
  auto* h = static_cast<unsigned*>(launch->dynamic_shared);
  const unsigned block = launch->block.x;
  const long long stride = static_cast<long long>(GridThreadsX(launch));
  PerBlock(launch, [&](rcuda_dim3 bi) {
    std::fill(h, h + bins, 0u);
    for (unsigned t = 0; t < block; ++t)
      for (long long i = bi.x * block + t; i < n; i += stride) h[in[i] % bins]++;
    for (int b = 0; b < bins; ++b)
      if (h[b]) hist[b] += h[b];
  });
  return 0;
}

RCUDA_TEST_KERNEL("_Z9scanPairsPKiPKfPiPfi", scan_pairs) {
  auto a = Param<const int*>(launch, 0);
  auto b = Param<const float*>(launch, 1);
  auto out_a = Param<int*>(launch, 2);
  auto out_b = Param<float*>(launch, 3);
  auto n = Param<int>(launch, 4);
  const unsigned block = launch->block.x;
  if (launch->dynamic_shared_bytes < block * (sizeof(int) + sizeof(float))) return kIllegalAddress;
  auto* sa = static_cast<int*>(launch->dynamic_shared);
  auto* sb = reinterpret_cast<float*>(sa + block);
  std::vector<int> va(block);
  std::vector<float> vb(block);
  PerBlock(launch, [&](rcuda_dim3 bi) {
    for (unsigned t = 0; t < block; ++t) {
      unsigned i = bi.x * block + t;
      sa[t] = i < static_cast<unsigned>(n) ? a[i] : 0;
      sb[t] = i < static_cast<unsigned>(n) ? b[i] : -1e30f;
    }
    for (unsigned off = 1; off < block; off *= 2) {
      for (unsigned t = 0; t < block; ++t) {
        va[t] = t >= off ? sa[t - off] : 0;
        vb[t] = t >= off ? sb[t - off] : -1e30f;
      }
      for (unsigned t = 0; t < block; ++t) {
        sa[t] += va[t];
        sb[t] = std::fmax(sb[t], vb[t]);
      }
    }
    for (unsigned t = 0; t < block; ++t) {
      unsigned i = bi.x * block + t;
      if (i < static_cast<unsigned>(n)) {
        out_a[i] = sa[t];
        out_b[i] = sb[t];
      }
    }
  });
  return 0;
}
