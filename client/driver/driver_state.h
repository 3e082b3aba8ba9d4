// State shared by the driver API's forwarding files: whether cuInit ran,
// the contexts (a primary one per device of the runtime's session, never
// destroyed, and those cuCtxCreate made, with what they own) and the
// conversion of runtime errors to driver results.
#pragma once

#include <cuda.h>
#include <cuda_runtime_api.h>

namespace rcuda::client::driver {

// CUDA_SUCCESS once cuInit succeeded, else what every call answers.
CUresult Initialized();
// The runtime's error as the driver spells it.
CUresult FromRuntime(cudaError_t error);
// CUDA_SUCCESS when `device` is one of the session's devices.
CUresult CheckDevice(CUdevice device);
// The primary context of `device` (a stable non-null handle), nullptr when
// out of range; the device of a primary or live created context, -1 for a
// handle that is neither.
CUcontext PrimaryContext(int device);
int ContextDevice(CUcontext context);

// What a context made by cuCtxCreate releases when cuCtxDestroy destroys
// it: what the driver API made while it was the calling thread's current
// context (driver_context.cc).
enum class ContextResource { kDeviceMemory, kHostMemory, kModule, kStream, kEvent };
// Records `handle` in the calling thread's current context when that is a
// created one; Forget removes it from whichever context holds it.
void Remember(ContextResource kind, const void* handle);
void Forget(ContextResource kind, const void* handle);

// cuMemcpy2D (and its forms) with a CUDA array on either side or both
// (driver_arrays.cc).
CUresult Memcpy2DWithArrays(const CUDA_MEMCPY2D& copy, cudaStream_t stream, bool async);

}  // namespace rcuda::client::driver

#define RCUDA_DRIVER_REQUIRE_INIT()                                     \
  do {                                                                  \
    if (CUresult init = ::rcuda::client::driver::Initialized()) return init; \
  } while (0)
