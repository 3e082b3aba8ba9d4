// mempool: stream-ordered allocation. cudaMallocAsync/cudaFreeAsync with
// kernels and copies in between; the default pool (cudaDeviceGetDefaultMemPool,
// cudaDeviceGetMemPool, and by location: cudaMemGetDefaultMemPool,
// cudaMemGetMemPool, cudaMemSetMemPool; the device's own access) and its
// release threshold set and read back; a created
// pool (cudaMemPoolCreate) with cudaMallocFromPoolAsync, its used and reserved
// memory attributes while allocated and after the free, cudaMemPoolTrimTo,
// cudaMemPoolDestroy; an allocation made on one stream, used on another after
// an event, and freed there. Data through every allocation is checked.
#include "test_util.h"

__global__ void fillPattern(unsigned* p, size_t n, unsigned seed) {
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
    p[i] = seed ^ (unsigned)(i * 2654435761u);
}

static std::vector<unsigned> Pattern(size_t n, unsigned seed) {
  std::vector<unsigned> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = seed ^ static_cast<unsigned>(i * 2654435761u);
  return v;
}

static uint64_t PoolAttribute(cudaMemPool_t pool, cudaMemPoolAttr attr) {
  uint64_t v = 0;
  CUDA_CHECK(cudaMemPoolGetAttribute(pool, attr, &v));
  return v;
}

int main() {
  rtest::Rng rng = rtest::Init("mempool");
  rtest::Checksum sum;
  int dev = 0, supported = 0;
  CUDA_CHECK(cudaGetDevice(&dev));
  CUDA_CHECK(cudaDeviceGetAttribute(&supported, cudaDevAttrMemoryPoolsSupported, dev));
  CHECKF(supported == 1, "cudaDevAttrMemoryPoolsSupported is %d", supported);
  cudaStream_t s, s2;
  CUDA_CHECK(cudaStreamCreate(&s));
  CUDA_CHECK(cudaStreamCreateWithFlags(&s2, cudaStreamNonBlocking));

  // Default pool.
  cudaMemPool_t defaultPool, current;
  CUDA_CHECK(cudaDeviceGetDefaultMemPool(&defaultPool, dev));
  CUDA_CHECK(cudaDeviceGetMemPool(&current, dev));
  CHECKF(defaultPool == current, "the current pool is not the default pool at start-up");
  uint64_t threshold = 64ull << 20;
  CUDA_CHECK(cudaMemPoolSetAttribute(defaultPool, cudaMemPoolAttrReleaseThreshold, &threshold));
  CHECKF(PoolAttribute(defaultPool, cudaMemPoolAttrReleaseThreshold) == threshold, "release threshold not kept");
  // The same pools by location (CUDA 13), and the device's own access.
  cudaMemLocation here = {cudaMemLocationTypeDevice, dev};
  cudaMemPool_t byLocation = nullptr;
  CUDA_CHECK(cudaMemGetDefaultMemPool(&byLocation, &here, cudaMemAllocationTypePinned));
  CHECKF(byLocation == defaultPool, "cudaMemGetDefaultMemPool gave another pool than the device's default");
  CUDA_CHECK(cudaMemSetMemPool(&here, cudaMemAllocationTypePinned, defaultPool));
  CUDA_CHECK(cudaMemGetMemPool(&byLocation, &here, cudaMemAllocationTypePinned));
  CHECKF(byLocation == defaultPool, "cudaMemGetMemPool gave another pool than the one set");
  cudaMemAccessFlags access = cudaMemAccessFlagsProtNone;
  CUDA_CHECK(cudaMemPoolGetAccess(&access, defaultPool, &here));
  CHECKF(access == cudaMemAccessFlagsProtReadWrite, "the pool's own device has access %d", (int)access);
  cudaMemAccessDesc own = {here, cudaMemAccessFlagsProtReadWrite};
  CUDA_CHECK(cudaMemPoolSetAccess(defaultPool, &own, 1));

  // Allocate, use, free in stream order, several sizes, with reuse.
  for (int round = 0; round < 6; ++round) {
    const size_t n = static_cast<size_t>(rng.Int(1000, 3000000));
    const unsigned seed = rng.U32();
    unsigned* p = nullptr;
    CUDA_CHECK(cudaMallocAsync(&p, n * sizeof(unsigned), s));
    CHECKF(p != nullptr, "cudaMallocAsync returned a null pointer");
    fillPattern<<<120, 256, 0, s>>>(p, n, seed);
    CUDA_CHECK_LAUNCH();
    std::vector<unsigned> got(n);
    CUDA_CHECK(cudaMemcpyAsync(got.data(), p, n * sizeof(unsigned), cudaMemcpyDeviceToHost, s));
    CUDA_CHECK(cudaFreeAsync(p, s));
    CUDA_CHECK(cudaStreamSynchronize(s));
    char what[64];
    std::snprintf(what, sizeof what, "round %d: %zu elements through cudaMallocAsync", round, n);
    rtest::ExpectEqual(got, Pattern(n, seed), what);
    sum.AddValue(got[n / 2]);
  }

  // A created pool.
  {
    cudaMemPoolProps props = {};
    props.allocType = cudaMemAllocationTypePinned;
    props.location.type = cudaMemLocationTypeDevice;
    props.location.id = dev;
    cudaMemPool_t pool;
    CUDA_CHECK(cudaMemPoolCreate(&pool, &props));
    const size_t n = 4u << 20;  // 16 MiB
    unsigned* p = nullptr;
    CUDA_CHECK(cudaMallocFromPoolAsync(reinterpret_cast<void**>(&p), n * sizeof(unsigned), pool, s));
    const unsigned seed = rng.U32();
    fillPattern<<<256, 256, 0, s>>>(p, n, seed);
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaStreamSynchronize(s));
    const uint64_t used = PoolAttribute(pool, cudaMemPoolAttrUsedMemCurrent);
    const uint64_t reserved = PoolAttribute(pool, cudaMemPoolAttrReservedMemCurrent);
    CHECKF(used >= n * sizeof(unsigned) && reserved >= used, "created pool: used %llu, reserved %llu with %zu allocated",
           static_cast<unsigned long long>(used), static_cast<unsigned long long>(reserved), n * sizeof(unsigned));
    std::vector<unsigned> got(n);
    CUDA_CHECK(cudaMemcpy(got.data(), p, n * sizeof(unsigned), cudaMemcpyDeviceToHost));
    rtest::ExpectEqual(got, Pattern(n, seed), "an allocation from a created pool");
    sum.AddValue(got[12345]);
    CUDA_CHECK(cudaFreeAsync(p, s));
    CUDA_CHECK(cudaStreamSynchronize(s));
    CHECKF(PoolAttribute(pool, cudaMemPoolAttrUsedMemCurrent) == 0, "created pool: used memory %llu after the free",
           static_cast<unsigned long long>(PoolAttribute(pool, cudaMemPoolAttrUsedMemCurrent)));
    CUDA_CHECK(cudaMemPoolTrimTo(pool, 0));
    const uint64_t trimmed = PoolAttribute(pool, cudaMemPoolAttrReservedMemCurrent);
    CHECKF(trimmed < reserved, "created pool: reserved %llu after cudaMemPoolTrimTo(0), %llu before",
           static_cast<unsigned long long>(trimmed), static_cast<unsigned long long>(reserved));
    CUDA_CHECK(cudaMemPoolDestroy(pool));
  }

  // Allocated on s, used on s2 after an event, freed on s2.
  {
    cudaEvent_t ready, done;
    CUDA_CHECK(cudaEventCreateWithFlags(&ready, cudaEventDisableTiming));
    CUDA_CHECK(cudaEventCreateWithFlags(&done, cudaEventDisableTiming));
    const size_t n = 777777;
    const unsigned seed = rng.U32();
    unsigned* p = nullptr;
    CUDA_CHECK(cudaMallocAsync(&p, n * sizeof(unsigned), s));
    fillPattern<<<64, 128, 0, s>>>(p, n, seed);
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaEventRecord(ready, s));
    CUDA_CHECK(cudaStreamWaitEvent(s2, ready, 0));
    std::vector<unsigned> got(n);
    CUDA_CHECK(cudaMemcpyAsync(got.data(), p, n * sizeof(unsigned), cudaMemcpyDeviceToHost, s2));
    CUDA_CHECK(cudaFreeAsync(p, s2));
    CUDA_CHECK(cudaEventRecord(done, s2));
    CUDA_CHECK(cudaEventSynchronize(done));
    rtest::ExpectEqual(got, Pattern(n, seed), "an allocation from stream s used and freed on stream s2");
    sum.AddValue(got[n - 1]);
    CUDA_CHECK(cudaEventDestroy(ready));
    CUDA_CHECK(cudaEventDestroy(done));
  }

  CUDA_CHECK(cudaDeviceSynchronize());
  CUDA_CHECK(cudaMemPoolTrimTo(defaultPool, 0));
  CUDA_CHECK(cudaStreamDestroy(s));
  CUDA_CHECK(cudaStreamDestroy(s2));
  return rtest::Pass(sum);
}
