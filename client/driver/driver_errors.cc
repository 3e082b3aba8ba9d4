// cuGetErrorName/cuGetErrorString (answered locally) and cuGetProcAddress.
#include <cuda.h>

// cuda.h maps these names to their newer versions; both are exports.
#undef cuGetProcAddress
#include <cuda_runtime_api.h>

#include <cstring>
#include <string>

#include "client/driver/driver_unsupported.h"
#include "client/driver/proc_table.h"

using namespace rcuda::client::driver;

namespace {

struct ErrorName {
  int code;
  const char* name;
};
const ErrorName kErrorNames[] = {
#include "client/driver/error_names.inc"
};

}  // namespace

extern "C" {

RCUDA_DRIVER_EXPORT CUresult cuGetErrorName(CUresult error, const char** name) {
  if (!name) return CUDA_ERROR_INVALID_VALUE;
  for (const auto& e : kErrorNames) {
    if (e.code == error) {
      *name = e.name;
      return CUDA_SUCCESS;
    }
  }
  *name = nullptr;
  return CUDA_ERROR_INVALID_VALUE;
}

// The description of the runtime error of the same number where there is
// one (the numbers are shared), else the name.
RCUDA_DRIVER_EXPORT CUresult cuGetErrorString(CUresult error, const char** text) {
  if (!text) return CUDA_ERROR_INVALID_VALUE;
  const char* name = nullptr;
  if (cuGetErrorName(error, &name) != CUDA_SUCCESS) {
    *text = nullptr;
    return CUDA_ERROR_INVALID_VALUE;
  }
  const char* runtime = cudaGetErrorString(static_cast<cudaError_t>(error));
  *text = runtime && std::strstr(runtime, "unrecognized") == nullptr ? runtime : name;
  return CUDA_SUCCESS;
}

RCUDA_DRIVER_EXPORT CUresult cuGetProcAddress_v2(const char* symbol, void** pfn, int cuda_version,
                                                 cuuint64_t flags, CUdriverProcAddressQueryResult* status) {
  if (!symbol || !pfn) return CUDA_ERROR_INVALID_VALUE;
  *pfn = nullptr;
  for (size_t i = 0; i < kProcTableSize; ++i) {
    const ProcEntry& e = kProcTable[i];
    if (std::strcmp(e.name, symbol) != 0) continue;
    // An older ABI of the name, or its per-thread-default-stream variant,
    // would be another function, which rcuda does not have.
    if (cuda_version < e.abi_version) {
      if (status) *status = CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT;
      return CUDA_ERROR_NOT_FOUND;
    }
    if ((flags & CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM) && e.has_per_thread) {
      Unsupported((std::string(symbol) + " (per-thread default stream)").c_str());
      break;
    }
    *pfn = e.function;
    if (status) *status = CU_GET_PROC_ADDRESS_SUCCESS;
    return CUDA_SUCCESS;
  }
  if (status) *status = CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND;
  return CUDA_ERROR_NOT_FOUND;
}

RCUDA_DRIVER_EXPORT CUresult cuGetProcAddress(const char* symbol, void** pfn, int cuda_version, cuuint64_t flags) {
  return cuGetProcAddress_v2(symbol, pfn, cuda_version, flags, nullptr);
}

}  // extern "C"
