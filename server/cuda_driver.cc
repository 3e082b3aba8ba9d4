#include "server/cuda_driver.h"

#include <dlfcn.h>

namespace rcuda {

Status CudaDriver::Load(const std::string& library) {
  void* lib = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib) return Status(35, "cannot load the CUDA driver (" + library + "): " + dlerror());
  using GetProcAddress = CUresult (*)(const char*, void**, int, cuuint64_t, CUdriverProcAddressQueryResult*);
  auto get_proc = reinterpret_cast<GetProcAddress>(dlsym(lib, "cuGetProcAddress_v2"));
  if (!get_proc) return Status(35, "the CUDA driver lacks cuGetProcAddress_v2 (driver too old for CUDA 13)");
#define RCUDA_DRIVER_RESOLVE(name, version)                                                           \
  {                                                                                                   \
    void* fn = nullptr;                                                                               \
    CUdriverProcAddressQueryResult found;                                                             \
    if (get_proc(#name, &fn, version, CU_GET_PROC_ADDRESS_DEFAULT, &found) != CUDA_SUCCESS || !fn) { \
      return Status(35, "the CUDA driver lacks " #name);                                            \
    }                                                                                               \
    this->name = reinterpret_cast<decltype(this->name)>(fn);                                        \
  }
  RCUDA_DRIVER_FUNCTIONS(RCUDA_DRIVER_RESOLVE)
#undef RCUDA_DRIVER_RESOLVE
  return Status::Ok();
}

Status CudaDriver::Error(CUresult result, const char* what) const {
  const char* name = nullptr;
  const char* text = nullptr;
  if (cuGetErrorName) cuGetErrorName(result, &name);
  if (cuGetErrorString) cuGetErrorString(result, &text);
  return Status(static_cast<int>(result), std::string(what) + ": " + (name ? name : "CUDA error") + " (" +
                                              (text ? text : "?") + ")");
}

}  // namespace rcuda
