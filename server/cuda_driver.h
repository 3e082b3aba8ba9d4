// The CUDA driver API, opened at run time with dlopen("libcuda.so.1") so that
// rcuda-server builds and starts where no driver exists; the test backend
// opens the fake libcuda.so.1 of tests/fake_driver (TEST EQUIPMENT) by path.
// Each entry point is resolved with cuGetProcAddress at the ABI version
// named next to it, whose prototype is cudaTypedefs.h's PFN_<name>_v<version>:
// asking for "CUDA 13" wholesale would, for instance, return
// cuCtxSynchronize_v2, which takes a context argument. Legacy default stream
// semantics throughout.
#pragma once

#include <cuda.h>
#include <cudaProfilerTypedefs.h>
#include <cudaTypedefs.h>

#include <string>

#include "common/status.h"

namespace rcuda {

#define RCUDA_DRIVER_FUNCTIONS(X) \
  X(cuInit, 2000)                       \
  X(cuDriverGetVersion, 2020)           \
  X(cuDeviceGet, 2000)                  \
  X(cuDeviceGetCount, 2000)             \
  X(cuDeviceGetName, 2000)              \
  X(cuDeviceGetUuid, 11040)              \
  X(cuDeviceTotalMem, 3020)             \
  X(cuDeviceGetAttribute, 2000)         \
  X(cuDevicePrimaryCtxRetain, 7000)     \
  X(cuDevicePrimaryCtxRelease, 11000)    \
  X(cuCtxSetCurrent, 4000)              \
  X(cuCtxSynchronize, 2000)             \
  X(cuMemAlloc, 3020)                   \
  X(cuMemFree, 3020)                    \
  X(cuMemGetInfo, 3020)                 \
  X(cuMemHostAlloc, 2020)               \
  X(cuMemFreeHost, 2000)                \
  X(cuMemHostRegister, 6050)            \
  X(cuMemHostUnregister, 4000)          \
  X(cuMemHostGetDevicePointer, 3020)    \
  X(cuMemcpyHtoDAsync, 3020)            \
  X(cuMemcpyDtoHAsync, 3020)            \
  X(cuMemcpyDtoH, 3020)                 \
  X(cuMemcpyDtoDAsync, 3020)            \
  X(cuMemsetD8Async, 3020)              \
  X(cuLibraryLoadData, 12000)            \
  X(cuLibraryUnload, 12000)              \
  X(cuLibraryGetKernel, 12000)           \
  X(cuLibraryGetGlobal, 12000)           \
  X(cuKernelGetFunction, 12000)          \
  X(cuFuncGetParamInfo, 12040)           \
  X(cuFuncGetAttribute, 2020)           \
  X(cuLaunchKernel, 4000)               \
  X(cuStreamSynchronize, 2000)          \
  X(cuEventCreate, 2000)                \
  X(cuEventRecord, 2000)                \
  X(cuEventSynchronize, 2000)           \
  X(cuEventDestroy, 4000)               \
  X(cuStreamCreateWithPriority, 5050)   \
  X(cuStreamDestroy, 4000)              \
  X(cuStreamQuery, 2000)                \
  X(cuStreamWaitEvent, 3020)            \
  X(cuStreamGetPriority, 5050)          \
  X(cuStreamGetFlags, 5050)             \
  X(cuStreamSetAttribute, 11000)        \
  X(cuStreamGetAttribute, 11000)        \
  X(cuStreamCopyAttributes, 11000)      \
  X(cuCtxGetStreamPriorityRange, 5050)  \
  X(cuEventElapsedTime, 2000)           \
  X(cuEventQuery, 2000)                 \
  X(cuEventRecordWithFlags, 11010)      \
  X(cuLaunchHostFunc, 10000)            \
  X(cuMemcpy3DAsync, 3020)              \
  X(cuMemsetD2D8Async, 3020)            \
  X(cuMemsetD2D16Async, 3020)           \
  X(cuMemsetD2D32Async, 3020)           \
  X(cuMemAllocPitch, 3020)              \
  X(cuGraphCreate, 10000)               \
  X(cuGraphAddKernelNode, 12000)        \
  X(cuGraphKernelNodeSetAttribute, 11000) \
  X(cuGraphAddMemcpyNode, 10000)        \
  X(cuGraphAddMemsetNode, 10000)        \
  X(cuGraphAddHostNode, 10000)          \
  X(cuGraphAddEventRecordNode, 11010)   \
  X(cuGraphAddEventWaitNode, 11010)     \
  X(cuGraphAddEmptyNode, 10000)         \
  X(cuGraphInstantiateWithFlags, 11040) \
  X(cuGraphLaunch, 10000)               \
  X(cuGraphExecDestroy, 10000)          \
  X(cuGraphDestroy, 10000)              \
  X(cuGraphExecKernelNodeSetParams, 12000) \
  X(cuGraphExecUpdate, 12000)           \
  X(cuCtxGetLimit, 3010)                \
  X(cuCtxSetLimit, 3010)                \
  X(cuFuncSetAttribute, 9000)           \
  X(cuFuncSetCacheConfig, 3000)         \
  X(cuOccupancyMaxActiveBlocksPerMultiprocessorWithFlags, 7000) \
  X(cuOccupancyAvailableDynamicSMemPerBlock, 10020) \
  X(cuMemPoolCreate, 11020)             \
  X(cuMemPoolDestroy, 11020)            \
  X(cuMemPoolSetAttribute, 11020)       \
  X(cuMemPoolGetAttribute, 11020)       \
  X(cuMemPoolTrimTo, 11020)             \
  X(cuDeviceGetDefaultMemPool, 11020)   \
  X(cuDeviceGetMemPool, 11020)          \
  X(cuDeviceSetMemPool, 11020)          \
  X(cuMemAllocFromPoolAsync, 11020)     \
  X(cuMemFreeAsync, 11020)              \
  X(cuCtxSetCacheConfig, 3020)          \
  X(cuCtxGetCacheConfig, 3020)          \
  X(cuLaunchKernelEx, 11060)            \
  X(cuOccupancyMaxPotentialClusterSize, 11070) \
  X(cuOccupancyMaxActiveClusters, 11070) \
  X(cuGetErrorName, 6000)               \
  X(cuGetErrorString, 6000)             \
  X(cuProfilerStart, 4000)              \
  X(cuProfilerStop, 4000)               \
  X(cuArray3DCreate, 3020)              \
  X(cuArrayDestroy, 2000)               \
  X(cuTexObjectCreate, 5000)            \
  X(cuTexObjectDestroy, 5000)           \
  X(cuSurfObjectCreate, 5000)           \
  X(cuSurfObjectDestroy, 5000)          \
  X(cuMipmappedArrayCreate, 5000)       \
  X(cuMipmappedArrayGetLevel, 5000)     \
  X(cuMipmappedArrayDestroy, 5000)

struct CudaDriver {
#define RCUDA_DRIVER_MEMBER(name, version) PFN_##name##_v##version name = nullptr;
  RCUDA_DRIVER_FUNCTIONS(RCUDA_DRIVER_MEMBER)
#undef RCUDA_DRIVER_MEMBER

  // Opens the driver (a library name the dynamic linker looks up, or a
  // path) and resolves every entry point above.
  Status Load(const std::string& library = "libcuda.so.1");

  // A Status for a failed driver call, with the driver's name for the error.
  // CUresult and cudaError_t share their numbering for the errors a driver
  // call returns, so the code passes through unchanged.
  Status Error(CUresult result, const char* what) const;
};

}  // namespace rcuda
