// TEST EQUIPMENT: host versions of the examples' kernels, for rcuda-server's
// test backend (the fake CUDA driver's plugin interface,
// tests/fake_driver/host_kernel_api.h), which CI and `scripts/demo.sh`
// use on machines without a GPU. They follow the GPU kernels step by step,
// including the shared-memory phases between __syncthreads(), so that the
// examples check the whole rcuda path (parameters, launch configuration,
// copies). What they compute is not a GPU result.
//
//   rcuda-server --backend test --test-kernels build/lib/libexamples_test_kernels.so
#include <cstdint>
#include <vector>

#include "tests/fake_driver/host_kernel_api.h"

using namespace rcuda::testk;

namespace {

constexpr int kInvalidValue = 1;  // cudaErrorInvalidValue

}  // namespace

// vector_add.cu: vectorAdd(const float* a, const float* b, float* c, int n)
RCUDA_TEST_KERNEL("_Z9vectorAddPKfS0_Pfi", vector_add) {
  auto a = Param<const float*>(launch, 0);
  auto b = Param<const float*>(launch, 1);
  auto c = Param<float*>(launch, 2);
  auto n = Param<int>(launch, 3);
  ForEachThread(launch, [&](rcuda_dim3 block, rcuda_dim3 thread) {
    int i = static_cast<int>(block.x * launch->block.x + thread.x);
    if (i < n) c[i] = a[i] + b[i];
  });
  return 0;
}

// matrix_mul.cu: matrixMulTiled(A, B, C, M, K, N) with TILE x TILE blocks.
RCUDA_TEST_KERNEL("_Z14matrixMulTiledPKfS0_Pfiii", matrix_mul_tiled) {
  constexpr int TILE = 16;
  auto A = Param<const float*>(launch, 0);
  auto B = Param<const float*>(launch, 1);
  auto C = Param<float*>(launch, 2);
  auto M = Param<int>(launch, 3);
  auto K = Param<int>(launch, 4);
  auto N = Param<int>(launch, 5);
  if (launch->block.x != TILE || launch->block.y != TILE || launch->block.z != 1) return kInvalidValue;
  float As[TILE][TILE], Bs[TILE][TILE], sum[TILE][TILE];
  PerBlock(launch, [&](rcuda_dim3 block) {
    for (auto& r : sum)
      for (float& s : r) s = 0.0f;
    for (int t = 0; t < (K + TILE - 1) / TILE; ++t) {
      // Every thread loads its element of both tiles...
      for (int ty = 0; ty < TILE; ++ty) {
        for (int tx = 0; tx < TILE; ++tx) {
          const int row = static_cast<int>(block.y) * TILE + ty;
          const int col = static_cast<int>(block.x) * TILE + tx;
          const int a_col = t * TILE + tx, b_row = t * TILE + ty;
          As[ty][tx] = (row < M && a_col < K) ? A[row * K + a_col] : 0.0f;
          Bs[ty][tx] = (b_row < K && col < N) ? B[b_row * N + col] : 0.0f;
        }
      }
      // ...__syncthreads()... then every thread accumulates its products.
      for (int ty = 0; ty < TILE; ++ty)
        for (int tx = 0; tx < TILE; ++tx)
          for (int k = 0; k < TILE; ++k) sum[ty][tx] += As[ty][k] * Bs[k][tx];
    }
    for (int ty = 0; ty < TILE; ++ty) {
      for (int tx = 0; tx < TILE; ++tx) {
        const int row = static_cast<int>(block.y) * TILE + ty;
        const int col = static_cast<int>(block.x) * TILE + tx;
        if (row < M && col < N) C[row * N + col] = sum[ty][tx];
      }
    }
  });
  return 0;
}

namespace {

// The shared-memory tree of reduction.cu, for one block whose threads hold
// `partial`.
long long TreeSum(std::vector<long long>& partial) {
  for (size_t stride = partial.size() / 2; stride > 0; stride /= 2)
    for (size_t t = 0; t < stride; ++t) partial[t] += partial[t + stride];
  return partial[0];
}

}  // namespace

// reduction.cu: blockSum(const int* in, long long* out, int n)
RCUDA_TEST_KERNEL("_Z8blockSumPKiPxi", block_sum) {
  auto in = Param<const int*>(launch, 0);
  auto out = Param<long long*>(launch, 1);
  auto n = Param<int>(launch, 2);
  const uint32_t threads = launch->block.x;
  const uint64_t grid_threads = uint64_t{launch->grid.x} * threads;
  std::vector<long long> partial(threads);
  PerBlock(launch, [&](rcuda_dim3 block) {
    for (uint32_t t = 0; t < threads; ++t) {
      long long sum = 0;
      for (uint64_t i = uint64_t{block.x} * threads + t; i < static_cast<uint64_t>(n); i += grid_threads) sum += in[i];
      partial[t] = sum;
    }
    out[block.x] = TreeSum(partial);
  });
  return 0;
}

// reduction.cu: sumPartials(const long long* in, long long* out, int n)
RCUDA_TEST_KERNEL("_Z11sumPartialsPKxPxi", sum_partials) {
  auto in = Param<const long long*>(launch, 0);
  auto out = Param<long long*>(launch, 1);
  auto n = Param<int>(launch, 2);
  const uint32_t threads = launch->block.x;
  std::vector<long long> partial(threads);
  for (uint32_t t = 0; t < threads; ++t) {
    long long sum = 0;
    for (int i = static_cast<int>(t); i < n; i += static_cast<int>(threads)) sum += in[i];
    partial[t] = sum;
  }
  *out = TreeSum(partial);
  return 0;
}

RCUDA_TEST_KERNELS_PLUGIN()
