// managed_variable: __managed__ variables (registered with
// __cudaRegisterManagedVar; the runtime fills the host's view of them) read
// and written by the host and by kernels, with cudaDeviceSynchronize between.
// Like cudaMallocManaged, a remoting layer may refuse managed memory: the
// program first asks for a small managed allocation and, if that is refused
// with a clean CUDA error, does not touch the variables (touching them would be
// undefined); otherwise the variables must hold exactly the right data. A
// layer may also refuse every kernel of a module that has __managed__
// variables, as long as it refuses managed allocations too. (When refused,
// the checksum differs from a native run: there is less output.)
#include "test_util.h"

constexpr int kManaged = 4096;
__managed__ int mCounter;
__managed__ float mData[kManaged];
__managed__ int mInit[4] = {7, 11, 13, 17};

__global__ void doubleAndCount(int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) {
    mData[i] = __fmul_rn(mData[i], 2.0f) + (float)mInit[i % 4];
    atomicAdd(&mCounter, 1);
  }
}

// The same computation on ordinary device memory, for the checksum.
__global__ void doubleAndCountPlain(float* data, int* counter, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) {
    data[i] = __fmul_rn(data[i], 2.0f) + (float)(7 + (i % 4 == 1) * 4 + (i % 4 == 2) * 6 + (i % 4 == 3) * 10);
    atomicAdd(counter, 1);
  }
}

int main() {
  rtest::Rng rng = rtest::Init("managed_variable");
  rtest::Checksum sum;

  // Inputs for all rounds, and the results with ordinary device memory.
  const int wantInit[4] = {7, 11, 13, 17};
  const int kRounds = 3;
  std::vector<std::vector<float>> inputs(kRounds, std::vector<float>(kManaged));
  std::vector<std::vector<float>> wants(kRounds);
  for (int round = 0; round < kRounds; ++round) {
    const int n = kManaged - round * 1000 - 1;
    for (auto& x : inputs[round]) x = static_cast<float>(rng.Int(-100000, 100000));
    wants[round] = inputs[round];
    for (int i = 0; i < n; ++i) wants[round][i] = wants[round][i] * 2.0f + static_cast<float>(wantInit[i % 4]);
    float* d;
    int* counter;
    CUDA_CHECK(cudaMalloc(&d, kManaged * sizeof(float)));
    CUDA_CHECK(cudaMalloc(&counter, sizeof(int)));
    CUDA_CHECK(cudaMemcpy(d, inputs[round].data(), kManaged * sizeof(float), cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemset(counter, 0, sizeof(int)));
    doubleAndCountPlain<<<rtest::BlocksFor(n, 128), 128>>>(d, counter, n);
    if (cudaError_t launchErr = cudaGetLastError(); launchErr != cudaSuccess) {
      // A layer that refuses managed memory may refuse this whole module,
      // which registers __managed__ variables: allowed only as a clean,
      // consistent refusal (managed allocations refused too, the context
      // still usable, nothing wrong computed).
      rtest::Note("a kernel of this module (which has __managed__ variables) was refused: %s", rtest::ErrorText(launchErr));
      int* probe = nullptr;
      cudaError_t managedErr = cudaMallocManaged(&probe, sizeof(int));
      CHECKF(managedErr != cudaSuccess,
             "a kernel of a module with __managed__ variables was refused (%s) but cudaMallocManaged works",
             cudaGetErrorName(launchErr));
      CUDA_EXPECT(cudaGetLastError(), managedErr);
      CUDA_CHECK(cudaDeviceSynchronize());
      CUDA_CHECK(cudaFree(d));
      CUDA_CHECK(cudaFree(counter));
      return rtest::Pass(sum);
    }
    std::vector<float> got(kManaged);
    int count = 0;
    CUDA_CHECK(cudaMemcpy(got.data(), d, kManaged * sizeof(float), cudaMemcpyDeviceToHost));
    CUDA_CHECK(cudaMemcpy(&count, counter, sizeof count, cudaMemcpyDeviceToHost));
    rtest::ExpectEqual(got, wants[round], "doubleAndCountPlain on device memory");
    CHECKF(count == n, "doubleAndCountPlain counted %d, expected %d", count, n);
    sum.AddVector(got);
    CUDA_CHECK(cudaFree(d));
    CUDA_CHECK(cudaFree(counter));
  }

  int* probe = nullptr;
  cudaError_t err = cudaMallocManaged(&probe, sizeof(int));
  if (err != cudaSuccess) {
    rtest::Note("managed memory refused (cudaMallocManaged: %s); __managed__ variables left alone", rtest::ErrorText(err));
    CUDA_EXPECT(cudaGetLastError(), err);
    CUDA_CHECK(cudaDeviceSynchronize());
    return rtest::Pass(sum);
  }
  CUDA_CHECK(cudaFree(probe));

  rtest::ExpectEqual(mInit, wantInit, 4, "the initial value of a __managed__ array");
  for (int round = 0; round < kRounds; ++round) {
    const int n = kManaged - round * 1000 - 1;
    mCounter = round * 100;
    for (int i = 0; i < kManaged; ++i) mData[i] = inputs[round][i];
    doubleAndCount<<<rtest::BlocksFor(n, 128), 128>>>(n);
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaDeviceSynchronize());
    char what[64];
    std::snprintf(what, sizeof what, "round %d: mData after the kernel", round);
    rtest::ExpectEqual(mData, wants[round].data(), kManaged, what);
    CHECKF(mCounter == round * 100 + n, "round %d: mCounter is %d, expected %d", round, mCounter, round * 100 + n);
  }
  return rtest::Pass(sum);
}
