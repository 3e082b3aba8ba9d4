// The CUDA driver API, opened at run time with dlopen("libcuda.so.1") so that
// rcuda-server also runs (with the test backend) where no driver exists.
// Entry points are resolved with cuGetProcAddress for CUDA 13.0 semantics
// (legacy default stream), which also picks the right _v2/_v3 variants.
#pragma once

#include <cuda.h>

#include <string>

#include "common/status.h"

namespace rcuda {

#define RCUDA_DRIVER_FUNCTIONS(X) \
  X(cuInit)                       \
  X(cuDriverGetVersion)           \
  X(cuDeviceGet)                  \
  X(cuDeviceGetCount)             \
  X(cuDeviceGetName)              \
  X(cuDeviceGetUuid)              \
  X(cuDeviceTotalMem)             \
  X(cuDeviceGetAttribute)         \
  X(cuDevicePrimaryCtxRetain)     \
  X(cuDevicePrimaryCtxRelease)    \
  X(cuCtxSetCurrent)              \
  X(cuCtxSynchronize)             \
  X(cuMemAlloc)                   \
  X(cuMemFree)                    \
  X(cuMemGetInfo)                 \
  X(cuMemHostAlloc)               \
  X(cuMemFreeHost)                \
  X(cuMemcpyHtoDAsync)            \
  X(cuMemcpyDtoHAsync)            \
  X(cuMemcpyDtoDAsync)            \
  X(cuMemsetD8Async)              \
  X(cuLibraryLoadData)            \
  X(cuLibraryUnload)              \
  X(cuLibraryGetKernel)           \
  X(cuLibraryGetGlobal)           \
  X(cuKernelGetFunction)          \
  X(cuFuncGetParamInfo)           \
  X(cuFuncGetAttribute)           \
  X(cuLaunchKernel)               \
  X(cuStreamSynchronize)          \
  X(cuEventCreate)                \
  X(cuEventRecord)                \
  X(cuEventSynchronize)           \
  X(cuEventDestroy)               \
  X(cuGetErrorName)               \
  X(cuGetErrorString)

struct CudaDriver {
#define RCUDA_DRIVER_MEMBER(name) decltype(&::name) name = nullptr;
  RCUDA_DRIVER_FUNCTIONS(RCUDA_DRIVER_MEMBER)
#undef RCUDA_DRIVER_MEMBER

  // Opens libcuda.so.1 and resolves every entry point above.
  Status Load();

  // A Status for a failed driver call, with the driver's name for the error.
  // CUresult and cudaError_t share their numbering for the errors a driver
  // call returns, so the code passes through unchanged.
  Status Error(CUresult result, const char* what) const;
};

}  // namespace rcuda
