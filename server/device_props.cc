#include "server/device_props.h"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstring>

namespace rcuda {

std::vector<uint8_t> BuildDeviceProp(const std::vector<int32_t>& a, const std::string& name,
                                     const uint8_t uuid[16], uint64_t total_memory) {
  auto at = [&](int attr) { return attr < static_cast<int>(a.size()) ? a[attr] : 0; };
  cudaDeviceProp p;
  std::memset(&p, 0, sizeof p);
  std::strncpy(p.name, name.c_str(), sizeof p.name - 1);
  std::memcpy(&p.uuid, uuid, sizeof p.uuid);
  p.totalGlobalMem = total_memory;
  p.sharedMemPerBlock = at(cudaDevAttrMaxSharedMemoryPerBlock);
  p.regsPerBlock = at(cudaDevAttrMaxRegistersPerBlock);
  p.warpSize = at(cudaDevAttrWarpSize);
  p.memPitch = static_cast<size_t>(static_cast<unsigned>(at(cudaDevAttrMaxPitch)));
  p.maxThreadsPerBlock = at(cudaDevAttrMaxThreadsPerBlock);
  p.maxThreadsDim[0] = at(cudaDevAttrMaxBlockDimX);
  p.maxThreadsDim[1] = at(cudaDevAttrMaxBlockDimY);
  p.maxThreadsDim[2] = at(cudaDevAttrMaxBlockDimZ);
  p.maxGridSize[0] = at(cudaDevAttrMaxGridDimX);
  p.maxGridSize[1] = at(cudaDevAttrMaxGridDimY);
  p.maxGridSize[2] = at(cudaDevAttrMaxGridDimZ);
  p.totalConstMem = at(cudaDevAttrTotalConstantMemory);
  p.major = at(cudaDevAttrComputeCapabilityMajor);
  p.minor = at(cudaDevAttrComputeCapabilityMinor);
  p.textureAlignment = at(cudaDevAttrTextureAlignment);
  p.texturePitchAlignment = at(cudaDevAttrTexturePitchAlignment);
  p.multiProcessorCount = at(cudaDevAttrMultiProcessorCount);
  p.integrated = at(cudaDevAttrIntegrated);
  p.canMapHostMemory = at(cudaDevAttrCanMapHostMemory);
  p.maxTexture1D = at(cudaDevAttrMaxTexture1DWidth);
  p.maxTexture1DMipmap = at(cudaDevAttrMaxTexture1DMipmappedWidth);
  p.maxTexture2D[0] = at(cudaDevAttrMaxTexture2DWidth);
  p.maxTexture2D[1] = at(cudaDevAttrMaxTexture2DHeight);
  p.maxTexture2DMipmap[0] = at(cudaDevAttrMaxTexture2DMipmappedWidth);
  p.maxTexture2DMipmap[1] = at(cudaDevAttrMaxTexture2DMipmappedHeight);
  p.maxTexture2DLinear[0] = at(cudaDevAttrMaxTexture2DLinearWidth);
  p.maxTexture2DLinear[1] = at(cudaDevAttrMaxTexture2DLinearHeight);
  p.maxTexture2DLinear[2] = at(cudaDevAttrMaxTexture2DLinearPitch);
  p.maxTexture2DGather[0] = at(cudaDevAttrMaxTexture2DGatherWidth);
  p.maxTexture2DGather[1] = at(cudaDevAttrMaxTexture2DGatherHeight);
  p.maxTexture3D[0] = at(cudaDevAttrMaxTexture3DWidth);
  p.maxTexture3D[1] = at(cudaDevAttrMaxTexture3DHeight);
  p.maxTexture3D[2] = at(cudaDevAttrMaxTexture3DDepth);
  p.maxTexture3DAlt[0] = at(cudaDevAttrMaxTexture3DWidthAlt);
  p.maxTexture3DAlt[1] = at(cudaDevAttrMaxTexture3DHeightAlt);
  p.maxTexture3DAlt[2] = at(cudaDevAttrMaxTexture3DDepthAlt);
  p.maxTextureCubemap = at(cudaDevAttrMaxTextureCubemapWidth);
  p.maxTexture1DLayered[0] = at(cudaDevAttrMaxTexture1DLayeredWidth);
  p.maxTexture1DLayered[1] = at(cudaDevAttrMaxTexture1DLayeredLayers);
  p.maxTexture2DLayered[0] = at(cudaDevAttrMaxTexture2DLayeredWidth);
  p.maxTexture2DLayered[1] = at(cudaDevAttrMaxTexture2DLayeredHeight);
  p.maxTexture2DLayered[2] = at(cudaDevAttrMaxTexture2DLayeredLayers);
  p.maxTextureCubemapLayered[0] = at(cudaDevAttrMaxTextureCubemapLayeredWidth);
  p.maxTextureCubemapLayered[1] = at(cudaDevAttrMaxTextureCubemapLayeredLayers);
  p.maxSurface1D = at(cudaDevAttrMaxSurface1DWidth);
  p.maxSurface2D[0] = at(cudaDevAttrMaxSurface2DWidth);
  p.maxSurface2D[1] = at(cudaDevAttrMaxSurface2DHeight);
  p.maxSurface3D[0] = at(cudaDevAttrMaxSurface3DWidth);
  p.maxSurface3D[1] = at(cudaDevAttrMaxSurface3DHeight);
  p.maxSurface3D[2] = at(cudaDevAttrMaxSurface3DDepth);
  p.maxSurface1DLayered[0] = at(cudaDevAttrMaxSurface1DLayeredWidth);
  p.maxSurface1DLayered[1] = at(cudaDevAttrMaxSurface1DLayeredLayers);
  p.maxSurface2DLayered[0] = at(cudaDevAttrMaxSurface2DLayeredWidth);
  p.maxSurface2DLayered[1] = at(cudaDevAttrMaxSurface2DLayeredHeight);
  p.maxSurface2DLayered[2] = at(cudaDevAttrMaxSurface2DLayeredLayers);
  p.maxSurfaceCubemap = at(cudaDevAttrMaxSurfaceCubemapWidth);
  p.maxSurfaceCubemapLayered[0] = at(cudaDevAttrMaxSurfaceCubemapLayeredWidth);
  p.maxSurfaceCubemapLayered[1] = at(cudaDevAttrMaxSurfaceCubemapLayeredLayers);
  p.surfaceAlignment = at(cudaDevAttrSurfaceAlignment);
  p.concurrentKernels = at(cudaDevAttrConcurrentKernels);
  p.ECCEnabled = at(cudaDevAttrEccEnabled);
  p.pciBusID = at(cudaDevAttrPciBusId);
  p.pciDeviceID = at(cudaDevAttrPciDeviceId);
  p.pciDomainID = at(cudaDevAttrPciDomainId);
  p.tccDriver = at(cudaDevAttrTccDriver);
  p.asyncEngineCount = at(cudaDevAttrAsyncEngineCount);
  p.unifiedAddressing = at(cudaDevAttrUnifiedAddressing);
  p.memoryBusWidth = at(cudaDevAttrGlobalMemoryBusWidth);
  p.l2CacheSize = at(cudaDevAttrL2CacheSize);
  p.persistingL2CacheMaxSize = at(cudaDevAttrMaxPersistingL2CacheSize);
  p.maxThreadsPerMultiProcessor = at(cudaDevAttrMaxThreadsPerMultiProcessor);
  p.streamPrioritiesSupported = at(cudaDevAttrStreamPrioritiesSupported);
  p.globalL1CacheSupported = at(cudaDevAttrGlobalL1CacheSupported);
  p.localL1CacheSupported = at(cudaDevAttrLocalL1CacheSupported);
  p.sharedMemPerMultiprocessor = at(cudaDevAttrMaxSharedMemoryPerMultiprocessor);
  p.regsPerMultiprocessor = at(cudaDevAttrMaxRegistersPerMultiprocessor);
  p.managedMemory = at(cudaDevAttrManagedMemory);
  p.isMultiGpuBoard = at(cudaDevAttrIsMultiGpuBoard);
  p.multiGpuBoardGroupID = at(cudaDevAttrMultiGpuBoardGroupID);
  p.hostNativeAtomicSupported = at(cudaDevAttrHostNativeAtomicSupported);
  p.pageableMemoryAccess = at(cudaDevAttrPageableMemoryAccess);
  p.concurrentManagedAccess = at(cudaDevAttrConcurrentManagedAccess);
  p.computePreemptionSupported = at(cudaDevAttrComputePreemptionSupported);
  p.canUseHostPointerForRegisteredMem = at(cudaDevAttrCanUseHostPointerForRegisteredMem);
  p.cooperativeLaunch = at(cudaDevAttrCooperativeLaunch);
  p.sharedMemPerBlockOptin = at(cudaDevAttrMaxSharedMemoryPerBlockOptin);
  p.pageableMemoryAccessUsesHostPageTables = at(cudaDevAttrPageableMemoryAccessUsesHostPageTables);
  p.directManagedMemAccessFromHost = at(cudaDevAttrDirectManagedMemAccessFromHost);
  p.maxBlocksPerMultiProcessor = at(cudaDevAttrMaxBlocksPerMultiprocessor);
  p.accessPolicyMaxWindowSize = at(cudaDevAttrMaxAccessPolicyWindowSize);
  p.reservedSharedMemPerBlock = at(cudaDevAttrReservedSharedMemoryPerBlock);
  p.hostRegisterSupported = at(cudaDevAttrHostRegisterSupported);
  p.sparseCudaArraySupported = at(cudaDevAttrSparseCudaArraySupported);
  p.hostRegisterReadOnlySupported = at(cudaDevAttrHostRegisterReadOnlySupported);
  p.timelineSemaphoreInteropSupported = at(cudaDevAttrTimelineSemaphoreInteropSupported);
  p.memoryPoolsSupported = at(cudaDevAttrMemoryPoolsSupported);
  p.gpuDirectRDMASupported = at(cudaDevAttrGPUDirectRDMASupported);
  p.gpuDirectRDMAFlushWritesOptions = at(cudaDevAttrGPUDirectRDMAFlushWritesOptions);
  p.gpuDirectRDMAWritesOrdering = at(cudaDevAttrGPUDirectRDMAWritesOrdering);
  p.memoryPoolSupportedHandleTypes = at(cudaDevAttrMemoryPoolSupportedHandleTypes);
  p.deferredMappingCudaArraySupported = at(cudaDevAttrDeferredMappingCudaArraySupported);
  p.ipcEventSupported = at(cudaDevAttrIpcEventSupport);
  p.clusterLaunch = at(cudaDevAttrClusterLaunch);
  p.unifiedFunctionPointers = 0;
  p.deviceNumaConfig = at(cudaDevAttrNumaConfig);
  p.deviceNumaId = at(cudaDevAttrNumaId);
  p.mpsEnabled = at(cudaDevAttrMpsEnabled);
  p.hostNumaId = at(cudaDevAttrHostNumaId);
  p.gpuPciDeviceID = at(cudaDevAttrGpuPciDeviceId);
  p.gpuPciSubsystemID = at(cudaDevAttrGpuPciSubsystemId);
  p.hostNumaMultinodeIpcSupported = at(cudaDevAttrHostNumaMultinodeIpcSupported);
  std::vector<uint8_t> bytes(sizeof p);
  std::memcpy(bytes.data(), &p, sizeof p);
  return bytes;
}

}  // namespace rcuda
