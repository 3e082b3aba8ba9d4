// device_query: cudaGetDeviceCount, cudaGetDeviceProperties and
// cudaDeviceGetAttribute (every attribute that mirrors a property must agree
// with it), cudaMemGetInfo (consistent with the properties and with an
// allocation), runtime and driver versions, cudaSetDevice/cudaGetDevice over
// every device, invalid devices and attributes, and cudaDeviceReset followed by
// more work. Catches properties that are stale, partly filled, mismatched
// between the two APIs, or from another device.
#include "test_util.h"

// The device code's view: the architecture it was compiled for and the
// launch shape it sees.
__global__ void reportDevice(int* out) {
  if (blockIdx.x == 0 && threadIdx.x == 0) {
#ifdef __CUDA_ARCH__
    out[0] = __CUDA_ARCH__;
#endif
    out[1] = warpSize;
    out[2] = gridDim.x;
    out[3] = blockDim.x;
  }
}

// Attributes that mirror a cudaDeviceProp field. The last column says whether
// the value is a property of the GPU itself, so identical natively and
// through a remoting layer (hashed), or of its link with this host (not
// hashed: a remoting layer may honestly answer differently).
#define DEVICE_ATTRIBUTES(X)                                                           \
  X(cudaDevAttrMaxThreadsPerBlock, maxThreadsPerBlock, true)                           \
  X(cudaDevAttrMaxBlockDimX, maxThreadsDim[0], true)                                   \
  X(cudaDevAttrMaxBlockDimY, maxThreadsDim[1], true)                                   \
  X(cudaDevAttrMaxBlockDimZ, maxThreadsDim[2], true)                                   \
  X(cudaDevAttrMaxGridDimX, maxGridSize[0], true)                                      \
  X(cudaDevAttrMaxGridDimY, maxGridSize[1], true)                                      \
  X(cudaDevAttrMaxGridDimZ, maxGridSize[2], true)                                      \
  X(cudaDevAttrMaxSharedMemoryPerBlock, sharedMemPerBlock, true)                       \
  X(cudaDevAttrTotalConstantMemory, totalConstMem, true)                               \
  X(cudaDevAttrWarpSize, warpSize, true)                                               \
  X(cudaDevAttrMaxPitch, memPitch, true)                                               \
  X(cudaDevAttrMaxRegistersPerBlock, regsPerBlock, true)                               \
  X(cudaDevAttrTextureAlignment, textureAlignment, true)                               \
  X(cudaDevAttrTexturePitchAlignment, texturePitchAlignment, true)                     \
  X(cudaDevAttrSurfaceAlignment, surfaceAlignment, true)                               \
  X(cudaDevAttrMultiProcessorCount, multiProcessorCount, true)                         \
  X(cudaDevAttrIntegrated, integrated, true)                                           \
  X(cudaDevAttrConcurrentKernels, concurrentKernels, true)                             \
  X(cudaDevAttrEccEnabled, ECCEnabled, true)                                           \
  X(cudaDevAttrPciBusId, pciBusID, true)                                               \
  X(cudaDevAttrPciDeviceId, pciDeviceID, true)                                         \
  X(cudaDevAttrPciDomainId, pciDomainID, true)                                         \
  X(cudaDevAttrTccDriver, tccDriver, true)                                             \
  X(cudaDevAttrAsyncEngineCount, asyncEngineCount, true)                               \
  X(cudaDevAttrGlobalMemoryBusWidth, memoryBusWidth, true)                             \
  X(cudaDevAttrL2CacheSize, l2CacheSize, true)                                         \
  X(cudaDevAttrMaxPersistingL2CacheSize, persistingL2CacheMaxSize, true)               \
  X(cudaDevAttrMaxThreadsPerMultiProcessor, maxThreadsPerMultiProcessor, true)         \
  X(cudaDevAttrComputeCapabilityMajor, major, true)                                    \
  X(cudaDevAttrComputeCapabilityMinor, minor, true)                                    \
  X(cudaDevAttrStreamPrioritiesSupported, streamPrioritiesSupported, true)             \
  X(cudaDevAttrGlobalL1CacheSupported, globalL1CacheSupported, true)                   \
  X(cudaDevAttrLocalL1CacheSupported, localL1CacheSupported, true)                     \
  X(cudaDevAttrMaxSharedMemoryPerMultiprocessor, sharedMemPerMultiprocessor, true)     \
  X(cudaDevAttrMaxRegistersPerMultiprocessor, regsPerMultiprocessor, true)             \
  X(cudaDevAttrIsMultiGpuBoard, isMultiGpuBoard, true)                                 \
  X(cudaDevAttrMultiGpuBoardGroupID, multiGpuBoardGroupID, true)                       \
  X(cudaDevAttrComputePreemptionSupported, computePreemptionSupported, true)           \
  X(cudaDevAttrCooperativeLaunch, cooperativeLaunch, true)                             \
  X(cudaDevAttrMaxSharedMemoryPerBlockOptin, sharedMemPerBlockOptin, true)             \
  X(cudaDevAttrMaxBlocksPerMultiprocessor, maxBlocksPerMultiProcessor, true)           \
  X(cudaDevAttrMaxAccessPolicyWindowSize, accessPolicyMaxWindowSize, true)             \
  X(cudaDevAttrReservedSharedMemoryPerBlock, reservedSharedMemPerBlock, true)          \
  X(cudaDevAttrClusterLaunch, clusterLaunch, true)                                     \
  X(cudaDevAttrMaxTexture1DWidth, maxTexture1D, true)                                  \
  X(cudaDevAttrCanMapHostMemory, canMapHostMemory, false)                              \
  X(cudaDevAttrUnifiedAddressing, unifiedAddressing, false)                            \
  X(cudaDevAttrManagedMemory, managedMemory, false)                                    \
  X(cudaDevAttrConcurrentManagedAccess, concurrentManagedAccess, false)                \
  X(cudaDevAttrPageableMemoryAccess, pageableMemoryAccess, false)                      \
  X(cudaDevAttrHostNativeAtomicSupported, hostNativeAtomicSupported, false)            \
  X(cudaDevAttrCanUseHostPointerForRegisteredMem, canUseHostPointerForRegisteredMem, false) \
  X(cudaDevAttrHostRegisterSupported, hostRegisterSupported, false)                    \
  X(cudaDevAttrMemoryPoolsSupported, memoryPoolsSupported, false)

static void CheckDevice(int dev, rtest::Checksum& sum) {
  CUDA_CHECK(cudaSetDevice(dev));
  int current = -1;
  CUDA_CHECK(cudaGetDevice(&current));
  CHECKF(current == dev, "cudaGetDevice gave %d after cudaSetDevice(%d)", current, dev);

  cudaDeviceProp prop;
  std::memset(&prop, 0xCD, sizeof prop);
  CUDA_CHECK(cudaGetDeviceProperties(&prop, dev));
  CHECKF(std::memchr(prop.name, '\0', sizeof prop.name) != nullptr && prop.name[0] != '\0',
         "device %d: name is empty or not terminated", dev);
  CHECKF(prop.warpSize == 32, "device %d: warpSize %d", dev, prop.warpSize);
  CHECKF(prop.maxThreadsPerBlock == 1024, "device %d: maxThreadsPerBlock %d", dev, prop.maxThreadsPerBlock);
  CHECKF(prop.multiProcessorCount > 0, "device %d: multiProcessorCount %d", dev, prop.multiProcessorCount);
  CHECKF(prop.totalGlobalMem > (64ull << 20), "device %d: totalGlobalMem %zu", dev, prop.totalGlobalMem);
  CHECKF(prop.sharedMemPerBlock >= 48 * 1024, "device %d: sharedMemPerBlock %zu", dev, prop.sharedMemPerBlock);
  CHECKF(prop.sharedMemPerBlockOptin >= prop.sharedMemPerBlock, "device %d: sharedMemPerBlockOptin %zu < %zu", dev,
         prop.sharedMemPerBlockOptin, prop.sharedMemPerBlock);
  CHECKF(prop.maxThreadsPerMultiProcessor >= prop.maxThreadsPerBlock, "device %d: maxThreadsPerMultiProcessor %d", dev,
         prop.maxThreadsPerMultiProcessor);

  // Every mirrored attribute agrees with the properties.
#define CHECK_ATTRIBUTE(attr, field, hashed)                                                              \
  {                                                                                                       \
    int value = -12345;                                                                                   \
    CUDA_CHECK(cudaDeviceGetAttribute(&value, attr, dev));                                                \
    CHECKF(static_cast<long long>(value) == static_cast<long long>(prop.field),                           \
           "device %d: cudaDeviceGetAttribute(" #attr ") = %d but cudaDeviceProp." #field " = %lld", dev, \
           value, static_cast<long long>(prop.field));                                                    \
    if (hashed) sum.AddValue(value);                                                                      \
  }
  DEVICE_ATTRIBUTES(CHECK_ATTRIBUTE)
#undef CHECK_ATTRIBUTE

  sum.AddString(prop.name);
  sum.AddValue(prop.totalGlobalMem);
  sum.Add(&prop.uuid, sizeof prop.uuid);

  // Memory: the total matches the properties; an allocation shows in free.
  size_t freeBefore = 0, total = 0;
  CUDA_CHECK(cudaMemGetInfo(&freeBefore, &total));
  CHECKF(total == prop.totalGlobalMem, "device %d: cudaMemGetInfo total %zu, totalGlobalMem %zu", dev, total,
         prop.totalGlobalMem);
  CHECKF(freeBefore <= total && freeBefore > 0, "device %d: free %zu of %zu", dev, freeBefore, total);
  const size_t chunk = 256ull << 20;
  void* p = nullptr;
  CUDA_CHECK(cudaMalloc(&p, chunk));
  size_t freeAfter = 0;
  CUDA_CHECK(cudaMemGetInfo(&freeAfter, &total));
  CHECKF(freeAfter + chunk / 2 <= freeBefore,
         "device %d: free memory went from %zu to %zu after allocating %zu bytes", dev, freeBefore, freeAfter, chunk);
  CUDA_CHECK(cudaFree(p));

  // The device code agrees: compiled for this compute capability, and sees
  // the launch shape.
  int* dOut;
  int out[4] = {0, 0, 0, 0};
  CUDA_CHECK(cudaMalloc(&dOut, sizeof out));
  CUDA_CHECK(cudaMemset(dOut, 0, sizeof out));
  reportDevice<<<3, 96>>>(dOut);
  CUDA_CHECK_LAUNCH();
  CUDA_CHECK(cudaMemcpy(out, dOut, sizeof out, cudaMemcpyDeviceToHost));
  CUDA_CHECK(cudaFree(dOut));
  CHECKF(out[0] / 100 == prop.major, "device %d: kernel compiled for sm_%d ran on compute capability %d.%d", dev,
         out[0] / 10, prop.major, prop.minor);
  CHECKF(out[1] == 32 && out[2] == 3 && out[3] == 96, "device %d: kernel saw warpSize %d gridDim %d blockDim %d", dev,
         out[1], out[2], out[3]);
  sum.Add(out, sizeof out);
}

int main() {
  rtest::Init("device_query");
  rtest::Checksum sum;

  int count = 0;
  CUDA_CHECK(cudaGetDeviceCount(&count));
  CHECKF(count >= 1, "cudaGetDeviceCount gave %d", count);
  sum.AddValue(count);

  int runtime = 0, driver = 0;
  CUDA_CHECK(cudaRuntimeGetVersion(&runtime));
  CUDA_CHECK(cudaDriverGetVersion(&driver));
  CHECKF(runtime / 1000 == CUDART_VERSION / 1000, "cudaRuntimeGetVersion gave %d; this program was built with %d",
         runtime, CUDART_VERSION);
  CHECKF(driver >= runtime, "cudaDriverGetVersion gave %d, older than the runtime %d", driver, runtime);

  for (int dev = 0; dev < count; ++dev) CheckDevice(dev, sum);

  // Invalid devices and attributes are errors, recorded as the last error
  // and cleared by reading it; the current device does not change.
  CUDA_CHECK(cudaSetDevice(0));
  cudaDeviceProp prop;
  int value = 0, current = -1;
  CUDA_EXPECT(cudaSetDevice(count), cudaErrorInvalidDevice);
  CUDA_EXPECT(cudaGetLastError(), cudaErrorInvalidDevice);
  CUDA_EXPECT(cudaGetLastError(), cudaSuccess);
  CUDA_CHECK(cudaGetDevice(&current));
  CHECKF(current == 0, "cudaGetDevice gave %d after a failed cudaSetDevice(%d)", current, count);
  CUDA_EXPECT(cudaSetDevice(-1), cudaErrorInvalidDevice);
  CUDA_EXPECT(cudaGetDeviceProperties(&prop, count), cudaErrorInvalidDevice);
  CUDA_EXPECT(cudaDeviceGetAttribute(&value, cudaDevAttrWarpSize, count), cudaErrorInvalidDevice);
  CUDA_EXPECT(cudaDeviceGetAttribute(&value, static_cast<cudaDeviceAttr>(100000), 0), cudaErrorInvalidValue);
  CUDA_EXPECT(cudaGetLastError(), cudaErrorInvalidValue);
  CUDA_EXPECT(cudaGetLastError(), cudaSuccess);

  // cudaDeviceReset, then the runtime starts over on the next call: memory,
  // kernels and copies work again.
  CUDA_CHECK(cudaDeviceSynchronize());
  CUDA_CHECK(cudaDeviceReset());
  int* dOut;
  int out[4] = {0, 0, 0, 0};
  CUDA_CHECK(cudaMalloc(&dOut, sizeof out));
  reportDevice<<<5, 64>>>(dOut);
  CUDA_CHECK_LAUNCH();
  CUDA_CHECK(cudaMemcpy(out, dOut, sizeof out, cudaMemcpyDeviceToHost));
  CHECKF(out[2] == 5 && out[3] == 64, "after cudaDeviceReset the kernel saw gridDim %d blockDim %d", out[2], out[3]);
  CUDA_CHECK(cudaFree(dOut));
  CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
  CHECKF(prop.warpSize == 32, "after cudaDeviceReset warpSize is %d", prop.warpSize);

  return rtest::Pass(sum);
}
