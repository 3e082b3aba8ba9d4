// sticky_fault: a kernel that writes through a wild pointer. Its launch is
// accepted; the fault (cudaErrorIllegalAddress) is reported by the next
// synchronizing call, and from then on it is sticky: every later call that
// needs the context returns it. The work before the fault was correct. A
// remoting layer must report the asynchronous error at the right call and not
// pretend the context is still usable. (Per CUDA's documentation the process
// must end after such an error, so the program ends there.)
#include "test_util.h"

__global__ void fillSquares(long long* out, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = (long long)i * i;
}

// Every thread writes its element; one thread also writes through `wild`.
__global__ void writeWild(int* out, int n, int* wild) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = i;
  if (i == n / 2) *wild = 42;
}

int main() {
  rtest::Rng rng = rtest::Init("sticky_fault");
  rtest::Checksum sum;

  const int n = 100000 + static_cast<int>(rng.Int(0, 999));
  long long* d;
  CUDA_CHECK(cudaMalloc(&d, n * sizeof(long long)));
  fillSquares<<<rtest::BlocksFor(n, 256), 256>>>(d, n);
  CUDA_CHECK_LAUNCH();
  std::vector<long long> got(n), want(n);
  CUDA_CHECK(cudaMemcpy(got.data(), d, n * sizeof(long long), cudaMemcpyDeviceToHost));
  for (int i = 0; i < n; ++i) want[i] = static_cast<long long>(i) * i;
  rtest::ExpectEqual(got, want, "fillSquares before the fault");
  sum.AddVector(got);

  int* out;
  CUDA_CHECK(cudaMalloc(&out, n * sizeof(int)));
  int* wild = reinterpret_cast<int*>(0x10);
  writeWild<<<rtest::BlocksFor(n, 256), 256>>>(out, n, wild);
  // The launch itself is valid.
  CUDA_EXPECT(cudaGetLastError(), cudaSuccess);

  // The fault arrives at the next synchronizing call...
  cudaError_t err = cudaDeviceSynchronize();
  CHECKF(err == cudaErrorIllegalAddress, "cudaDeviceSynchronize after a wild write returned %s, expected %s",
         rtest::ErrorText(err), cudaGetErrorName(cudaErrorIllegalAddress));
  sum.AddValue(err);

  // ...and stays: later calls fail with it too.
  void* p = nullptr;
  CUDA_EXPECT(cudaMalloc(&p, 1024), cudaErrorIllegalAddress);
  std::vector<int> host(16);
  CUDA_EXPECT(cudaMemcpy(host.data(), out, host.size() * sizeof(int), cudaMemcpyDeviceToHost), cudaErrorIllegalAddress);
  CUDA_EXPECT(cudaDeviceSynchronize(), cudaErrorIllegalAddress);
  fillSquares<<<1, 32>>>(d, 32);
  CUDA_EXPECT(cudaGetLastError(), cudaErrorIllegalAddress);
  CUDA_EXPECT(cudaDeviceSynchronize(), cudaErrorIllegalAddress);

  return rtest::Pass(sum);
}
