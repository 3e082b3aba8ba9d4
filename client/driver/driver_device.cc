// The driver API's initialization and devices, forwarded through rcuda's
// libcudart: the devices are the runtime's (contexts: driver_context.cc).
#include <cuda.h>

#include <cuda_runtime_api.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "client/driver/driver_state.h"
#include "client/driver/driver_unsupported.h"
#include "client/driver/private_driver_abi.h"

namespace rcuda::client::driver {
namespace {

std::atomic<CUresult> g_init{CUDA_ERROR_NOT_INITIALIZED};

}  // namespace

CUresult Initialized() { return g_init.load(std::memory_order_acquire); }

CUresult CheckDevice(CUdevice device) {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || device < 0 || device >= count) return CUDA_ERROR_INVALID_DEVICE;
  return CUDA_SUCCESS;
}

CUresult FromRuntime(cudaError_t error) {
  switch (error) {
    case cudaErrorInvalidDeviceFunction: return CUDA_ERROR_INVALID_HANDLE;
    case cudaErrorInvalidSymbol: return CUDA_ERROR_NOT_FOUND;
    case cudaErrorInvalidConfiguration: return CUDA_ERROR_INVALID_VALUE;
    case cudaErrorInvalidDevicePointer: return CUDA_ERROR_INVALID_VALUE;
    case cudaErrorInvalidMemcpyDirection: return CUDA_ERROR_INVALID_VALUE;
    default: return static_cast<CUresult>(error);  // the others share their numbers
  }
}

}  // namespace rcuda::client::driver

using namespace rcuda::client::driver;

extern "C" {

RCUDA_DRIVER_EXPORT CUresult cuInit(unsigned int flags) {
  if (flags != 0) return CUDA_ERROR_INVALID_VALUE;
  static std::once_flag once;
  static CUresult outcome;
  std::call_once(once, [] {
    if (rcudaPrivateAbiVersion() != RCUDA_PRIVATE_ABI_VERSION) {
      std::fprintf(stderr, "rcuda: libcuda.so.1 found a libcudart.so.13 of another private ABI version\n");
      outcome = CUDA_ERROR_NOT_INITIALIZED;
      return;
    }
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    outcome = e != cudaSuccess ? FromRuntime(e) : count == 0 ? CUDA_ERROR_NO_DEVICE : CUDA_SUCCESS;
  });
  g_init.store(outcome, std::memory_order_release);
  return outcome;
}

RCUDA_DRIVER_EXPORT CUresult cuDriverGetVersion(int* version) {
  if (!version) return CUDA_ERROR_INVALID_VALUE;
  return FromRuntime(cudaDriverGetVersion(version));
}

RCUDA_DRIVER_EXPORT CUresult cuDeviceGetCount(int* count) {
  RCUDA_DRIVER_REQUIRE_INIT();
  if (!count) return CUDA_ERROR_INVALID_VALUE;
  return FromRuntime(cudaGetDeviceCount(count));
}

RCUDA_DRIVER_EXPORT CUresult cuDeviceGet(CUdevice* device, int ordinal) {
  RCUDA_DRIVER_REQUIRE_INIT();
  if (!device) return CUDA_ERROR_INVALID_VALUE;
  if (CUresult r = CheckDevice(ordinal)) return r;
  *device = ordinal;
  return CUDA_SUCCESS;
}

RCUDA_DRIVER_EXPORT CUresult cuDeviceGetName(char* name, int length, CUdevice device) {
  RCUDA_DRIVER_REQUIRE_INIT();
  if (!name || length <= 0) return CUDA_ERROR_INVALID_VALUE;
  if (CUresult r = CheckDevice(device)) return r;
  cudaDeviceProp prop;
  if (cudaError_t e = cudaGetDeviceProperties(&prop, device)) return FromRuntime(e);
  std::strncpy(name, prop.name, length - 1);
  name[length - 1] = '\0';
  return CUDA_SUCCESS;
}

// CUdevice_attribute and cudaDeviceAttr share their numbers.
RCUDA_DRIVER_EXPORT CUresult cuDeviceGetAttribute(int* value, CUdevice_attribute attribute, CUdevice device) {
  RCUDA_DRIVER_REQUIRE_INIT();
  if (!value) return CUDA_ERROR_INVALID_VALUE;
  if (CUresult r = CheckDevice(device)) return r;
  return FromRuntime(cudaDeviceGetAttribute(value, static_cast<cudaDeviceAttr>(attribute), device));
}

RCUDA_DRIVER_EXPORT CUresult cuDeviceTotalMem_v2(size_t* bytes, CUdevice device) {
  RCUDA_DRIVER_REQUIRE_INIT();
  if (!bytes) return CUDA_ERROR_INVALID_VALUE;
  if (CUresult r = CheckDevice(device)) return r;
  cudaDeviceProp prop;
  if (cudaError_t e = cudaGetDeviceProperties(&prop, device)) return FromRuntime(e);
  *bytes = prop.totalGlobalMem;
  return CUDA_SUCCESS;
}

RCUDA_DRIVER_EXPORT CUresult cuDeviceComputeCapability(int* major, int* minor, CUdevice device) {
  RCUDA_DRIVER_REQUIRE_INIT();
  if (!major || !minor) return CUDA_ERROR_INVALID_VALUE;
  if (CUresult r = CheckDevice(device)) return r;
  if (cudaError_t e = cudaDeviceGetAttribute(major, cudaDevAttrComputeCapabilityMajor, device)) return FromRuntime(e);
  return FromRuntime(cudaDeviceGetAttribute(minor, cudaDevAttrComputeCapabilityMinor, device));
}

}  // extern "C"
