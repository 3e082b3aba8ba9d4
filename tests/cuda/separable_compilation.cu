// separable_compilation: a program built from two translation units with
// -rdc=true (CMake's CUDA_SEPARABLE_COMPILATION). Its kernel calls a
// __device__ function defined in the other unit and reads a __device__
// variable defined there; the host sets and reads that variable by symbol.
// Registration goes through the device-linked fatbinary
// (__cudaRegisterLinkedBinary_*, then __cudaRegisterFatBinary of a version-2
// wrapper). Catches a runtime that cannot read the linked image, kernels or
// variables of either unit that are not registered, and cross-unit calls that
// do not reach the other unit's code.
#include <vector>

#include "separable_compilation.h"
#include "test_util.h"

extern __device__ float sepOffset;
extern __device__ int sepCalls;
extern __device__ float sepAxpb(float a, float x);
__global__ void sepNegate(float* y, int n);

// y[i] = sepAxpb(a, x[i]) = a * x[i] + sepOffset
__global__ void sepApply(const float* x, float* y, float a, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = sepAxpb(a, x[i]);
}

int main() {
  rtest::Rng rng = rtest::Init("separable_compilation");
  rtest::Checksum sum;

  // The other unit's initialized variable comes from the linked image.
  float offset = 0;
  int calls = -1;
  CUDA_CHECK(cudaMemcpyFromSymbol(&offset, sepOffset, sizeof offset));
  CUDA_CHECK(cudaMemcpyFromSymbol(&calls, sepCalls, sizeof calls));
  CHECKF(offset == kSepOffsetInit, "initial sepOffset is %g, expected %g", offset, kSepOffsetInit);
  CHECKF(calls == 0, "initial sepCalls is %d, expected 0", calls);
  size_t size = 0;
  CUDA_CHECK(cudaGetSymbolSize(&size, sepCalls));
  CHECKF(size == sizeof(int), "cudaGetSymbolSize(sepCalls) gave %zu", size);

  std::vector<float> x(kSepN), y(kSepN);
  rng.FillFloats(x, -4.0f, 4.0f);
  float *dx = nullptr, *dy = nullptr;
  CUDA_CHECK(cudaMalloc(&dx, kSepN * sizeof(float)));
  CUDA_CHECK(cudaMalloc(&dy, kSepN * sizeof(float)));
  CUDA_CHECK(cudaMemcpy(dx, x.data(), kSepN * sizeof(float), cudaMemcpyHostToDevice));

  const float a = rng.Float(0.5f, 2.0f);
  const float offsets[2] = {kSepOffsetInit, rng.Float(-3.0f, 3.0f)};
  for (int round = 0; round < 2; ++round) {
    if (round == 1) CUDA_CHECK(cudaMemcpyToSymbol(sepOffset, &offsets[1], sizeof(float)));
    sepApply<<<rtest::BlocksFor(kSepN, 128), 128>>>(dx, dy, a, kSepN);
    CUDA_CHECK_LAUNCH();
    // The other unit's kernel, launched by its host stub from this unit.
    sepNegate<<<rtest::BlocksFor(kSepN, 256), 256>>>(dy, kSepN);
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaMemcpy(y.data(), dy, kSepN * sizeof(float), cudaMemcpyDeviceToHost));
    for (int i = 0; i < kSepN; ++i) {
      volatile float prod = a * x[i];  // rounded before the add, as __fmul_rn
      float want = -(prod + offsets[round]);
      CHECKF(y[i] == want, "round %d: y[%d] = %.9g, expected %.9g", round, i, y[i], want);
    }
    sum.AddVector(y);
  }
  CUDA_CHECK(cudaMemcpyFromSymbol(&calls, sepCalls, sizeof calls));
  CHECKF(calls == 2 * kSepN, "sepCalls is %d after two launches of %d threads, expected %d", calls, kSepN, 2 * kSepN);
  sum.AddValue(calls);

  CUDA_CHECK(cudaFree(dx));
  CUDA_CHECK(cudaFree(dy));
  return rtest::Pass(sum);
}
