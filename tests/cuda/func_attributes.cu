// func_attributes: cudaFuncGetAttributes (static shared memory, launch bounds,
// registers, binary version), cudaFuncSetAttribute raising the dynamic
// shared memory limit above 48 KB and a launch that uses 100 KB of it (and
// fails before the attribute is set), the same attribute through
// cudaGetKernel and cudaKernelSetAttributeForDevice, the preferred carveout,
// cudaFuncSetCacheConfig, cudaFuncGetName and cudaFuncGetParamInfo (offsets
// and sizes of a mixed parameter list). Catches attributes answered for the
// wrong kernel, attribute changes that do not reach the launch, and parameter
// layouts that differ from the compiler's.
#include "func_attributes.h"
#include "test_util.h"

__global__ void staticShared(const int* in, int* out, int n) {
  __shared__ int buf[1024];
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  buf[threadIdx.x] = i < n ? in[i] : 0;
  __syncthreads();
  if (i < n) out[i] = buf[threadIdx.x] + buf[(threadIdx.x + 1) % blockDim.x];
}

__global__ void __launch_bounds__(128) bounded(int* out, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = i * 3;
}

// Each block stages `chunk` ints in dynamic shared memory and adds them up.
__global__ void bigDynamicSum(const int* in, unsigned long long* total, int n, int chunk) {
  extern __shared__ int stage[];
  long long base = (long long)blockIdx.x * chunk;
  for (int j = threadIdx.x; j < chunk; j += blockDim.x) stage[j] = base + j < n ? in[base + j] : 0;
  __syncthreads();
  unsigned long long partial = 0;
  for (int j = threadIdx.x; j < chunk; j += blockDim.x) partial += (unsigned long long)(long long)stage[j];
  atomicAdd(total, partial);
}

__global__ void paramLayout(char c, double d, int* p, Vec3i v) {
  if (threadIdx.x == 0) p[0] = (int)c + (int)d + v.x * 100 + v.y * 10 + v.z;
}

int main() {
  rtest::Rng rng = rtest::Init("func_attributes");
  rtest::Checksum sum;
  cudaDeviceProp prop;
  CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));

  cudaFuncAttributes attr;
  CUDA_CHECK(cudaFuncGetAttributes(&attr, staticShared));
  CHECKF(attr.sharedSizeBytes >= 4096, "staticShared: sharedSizeBytes %zu", attr.sharedSizeBytes);
  CHECKF(attr.maxThreadsPerBlock > 0 && attr.maxThreadsPerBlock <= 1024, "staticShared: maxThreadsPerBlock %d",
         attr.maxThreadsPerBlock);
  CHECKF(attr.numRegs > 0, "staticShared: numRegs %d", attr.numRegs);
  CHECKF(attr.binaryVersion == prop.major * 10 + prop.minor || attr.binaryVersion == 90,
         "staticShared: binaryVersion %d on compute capability %d.%d", attr.binaryVersion, prop.major, prop.minor);
  sum.AddValue(attr.sharedSizeBytes);
  sum.AddValue(attr.binaryVersion);
  CUDA_CHECK(cudaFuncGetAttributes(&attr, bounded));
  CHECKF(attr.maxThreadsPerBlock > 0 && attr.maxThreadsPerBlock <= 128,
         "bounded (__launch_bounds__(128)): maxThreadsPerBlock %d", attr.maxThreadsPerBlock);
  CHECKF(attr.sharedSizeBytes == 0, "bounded: sharedSizeBytes %zu", attr.sharedSizeBytes);
  sum.AddValue(attr.maxThreadsPerBlock);

  // cudaFuncGetName names the kernel.
  const char* name = nullptr;
  CUDA_CHECK(cudaFuncGetName(&name, staticShared));
  CHECKF(name && std::strstr(name, "staticShared"), "cudaFuncGetName(staticShared) = \"%s\"", name ? name : "(null)");
  CUDA_CHECK(cudaFuncGetName(&name, bigDynamicSum));
  CHECKF(name && std::strstr(name, "bigDynamicSum"), "cudaFuncGetName(bigDynamicSum) = \"%s\"", name ? name : "(null)");

  // cudaFuncGetParamInfo: (char, double, int*, Vec3i) -> 1@0 8@8 8@16 12@24.
  {
    const size_t wantOffset[] = {0, 8, 16, 24}, wantSize[] = {1, 8, 8, 12};
    for (size_t i = 0; i < 4; ++i) {
      size_t offset = 999, size = 999;
      CUDA_CHECK(cudaFuncGetParamInfo(reinterpret_cast<const void*>(paramLayout), i, &offset, &size));
      CHECKF(offset == wantOffset[i] && size == wantSize[i], "paramLayout parameter %zu: %zu bytes at %zu, expected %zu at %zu",
             i, size, offset, wantSize[i], wantOffset[i]);
    }
    size_t offset, size;
    CUDA_EXPECT(cudaFuncGetParamInfo(reinterpret_cast<const void*>(paramLayout), 4, &offset, &size), cudaErrorInvalidValue);
    CUDA_EXPECT(cudaGetLastError(), cudaErrorInvalidValue);
    int* d;
    CUDA_CHECK(cudaMalloc(&d, sizeof(int)));
    const char c = static_cast<char>(rng.Int(-100, 100));
    const double dv = static_cast<double>(rng.Int(-1000, 1000));
    Vec3i v{static_cast<int>(rng.Int(0, 9)), static_cast<int>(rng.Int(0, 9)), static_cast<int>(rng.Int(0, 9))};
    paramLayout<<<1, 32>>>(c, dv, d, v);
    CUDA_CHECK_LAUNCH();
    int got = 0;
    CUDA_CHECK(cudaMemcpy(&got, d, sizeof got, cudaMemcpyDeviceToHost));
    const int want = c + static_cast<int>(dv) + v.x * 100 + v.y * 10 + v.z;
    CHECKF(got == want, "paramLayout computed %d, expected %d", got, want);
    sum.AddValue(got);
    CUDA_CHECK(cudaFree(d));
  }

  CUDA_CHECK(cudaFuncSetCacheConfig(staticShared, cudaFuncCachePreferShared));
  CUDA_CHECK(cudaFuncSetAttribute(staticShared, cudaFuncAttributePreferredSharedMemoryCarveout, 50));
  {
    const int n = 100003;
    std::vector<int> in(n), out(n), want(n);
    rng.FillInts(in, -100000, 100000);
    int *dIn, *dOut;
    CUDA_CHECK(cudaMalloc(&dIn, n * sizeof(int)));
    CUDA_CHECK(cudaMalloc(&dOut, n * sizeof(int)));
    CUDA_CHECK(cudaMemcpy(dIn, in.data(), n * sizeof(int), cudaMemcpyHostToDevice));
    staticShared<<<rtest::BlocksFor(n, 1024), 1024>>>(dIn, dOut, n);
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaMemcpy(out.data(), dOut, n * sizeof(int), cudaMemcpyDeviceToHost));
    for (int i = 0; i < n; ++i) {
      int base = i - i % 1024, t = i % 1024, next = base + (t + 1) % 1024;
      want[i] = in[i] + (next < n ? in[next] : 0);
    }
    rtest::ExpectEqual(out, want, "staticShared after cudaFuncSetCacheConfig and a carveout");
    sum.AddVector(out);
    CUDA_CHECK(cudaFree(dIn));
    CUDA_CHECK(cudaFree(dOut));
  }

  // 100 KB of dynamic shared memory: refused until the kernel's limit is
  // raised, then used.
  {
    const int dynBytes = 100 * 1024;
    CHECKF(prop.sharedMemPerBlockOptin >= static_cast<size_t>(dynBytes),
           "sharedMemPerBlockOptin is %zu; a compute capability 9.x device has more than 100 KB", prop.sharedMemPerBlockOptin);
    const int chunk = dynBytes / sizeof(int);
    const int n = 3 * chunk + 12345;
    std::vector<int> in(n);
    rng.FillInts(in, -1000000, 1000000);
    unsigned long long want = 0;
    for (int x : in) want += static_cast<unsigned long long>(static_cast<long long>(x));
    int* dIn;
    unsigned long long* dTotal;
    CUDA_CHECK(cudaMalloc(&dIn, n * sizeof(int)));
    CUDA_CHECK(cudaMalloc(&dTotal, sizeof(unsigned long long)));
    CUDA_CHECK(cudaMemcpy(dIn, in.data(), n * sizeof(int), cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemset(dTotal, 0, sizeof(unsigned long long)));

    CUDA_CHECK(cudaFuncGetAttributes(&attr, bigDynamicSum));
    CHECKF(attr.maxDynamicSharedSizeBytes < dynBytes, "bigDynamicSum: maxDynamicSharedSizeBytes %d before raising it",
           attr.maxDynamicSharedSizeBytes);
    bigDynamicSum<<<rtest::BlocksFor(n, chunk), 256, dynBytes>>>(dIn, dTotal, n, chunk);
    cudaError_t refused = cudaGetLastError();
    CHECKF(refused != cudaSuccess, "a launch with 100 KB of dynamic shared memory was accepted before "
           "cudaFuncAttributeMaxDynamicSharedMemorySize was raised");
    sum.AddValue(refused);

    CUDA_CHECK(cudaFuncSetAttribute(bigDynamicSum, cudaFuncAttributeMaxDynamicSharedMemorySize, dynBytes));
    CUDA_CHECK(cudaFuncGetAttributes(&attr, bigDynamicSum));
    CHECKF(attr.maxDynamicSharedSizeBytes == dynBytes, "bigDynamicSum: maxDynamicSharedSizeBytes %d after setting %d",
           attr.maxDynamicSharedSizeBytes, dynBytes);
    bigDynamicSum<<<rtest::BlocksFor(n, chunk), 256, dynBytes>>>(dIn, dTotal, n, chunk);
    CUDA_CHECK_LAUNCH();
    unsigned long long got = 0;
    CUDA_CHECK(cudaMemcpy(&got, dTotal, sizeof got, cudaMemcpyDeviceToHost));
    CHECKF(got == want, "bigDynamicSum with 100 KB of dynamic shared memory: %llu, expected %llu", got, want);
    sum.AddValue(got);
    // The same attribute for one device through the kernel's handle.
    cudaKernel_t kernel;
    int device = 0;
    CUDA_CHECK(cudaGetKernel(&kernel, bigDynamicSum));
    CUDA_CHECK(cudaGetDevice(&device));
    CUDA_CHECK(cudaKernelSetAttributeForDevice(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, dynBytes - 1024,
                                               device));
    CUDA_CHECK(cudaFuncGetAttributes(&attr, bigDynamicSum));
    CHECKF(attr.maxDynamicSharedSizeBytes == dynBytes - 1024,
           "bigDynamicSum: maxDynamicSharedSizeBytes %d after cudaKernelSetAttributeForDevice set %d",
           attr.maxDynamicSharedSizeBytes, dynBytes - 1024);
    CUDA_CHECK(cudaFree(dIn));
    CUDA_CHECK(cudaFree(dTotal));
  }

  // The bounded kernel runs within its bounds and is refused beyond them.
  {
    const int n = 1000;
    int* d;
    CUDA_CHECK(cudaMalloc(&d, n * sizeof(int)));
    bounded<<<rtest::BlocksFor(n, 128), 128>>>(d, n);
    CUDA_CHECK_LAUNCH();
    std::vector<int> got(n), want(n);
    CUDA_CHECK(cudaMemcpy(got.data(), d, n * sizeof(int), cudaMemcpyDeviceToHost));
    for (int i = 0; i < n; ++i) want[i] = 3 * i;
    rtest::ExpectEqual(got, want, "bounded with 128 threads per block");
    bounded<<<1, 256>>>(d, n);
    cudaError_t err = cudaGetLastError();
    CHECKF(err != cudaSuccess, "a launch of 256 threads of a __launch_bounds__(128) kernel was accepted");
    sum.AddValue(err);
    CUDA_CHECK(cudaFree(d));
  }

  return rtest::Pass(sum);
}
