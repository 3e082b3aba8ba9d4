// State shared by the driver API's forwarding files: whether cuInit ran,
// the primary contexts (one per device of the runtime's session, never
// destroyed) and the conversion of runtime errors to driver results.
#pragma once

#include <cuda.h>
#include <cuda_runtime_api.h>

namespace rcuda::client::driver {

// CUDA_SUCCESS once cuInit succeeded, else what every call answers.
CUresult Initialized();
// The runtime's error as the driver spells it.
CUresult FromRuntime(cudaError_t error);
// The primary context of `device` (a stable non-null handle), nullptr when
// out of range; its device, -1 for a handle that is none of ours.
CUcontext PrimaryContext(int device);
int ContextDevice(CUcontext context);

}  // namespace rcuda::client::driver

#define RCUDA_DRIVER_REQUIRE_INIT()                                     \
  do {                                                                  \
    if (CUresult init = ::rcuda::client::driver::Initialized()) return init; \
  } while (0)
