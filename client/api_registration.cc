// Registration: what nvcc's generated constructors call before main() to
// announce each fatbinary, kernel and device variable of the program.
#include <cstring>

#include "client/api_common.h"
#include "client/log.h"
#include "client/registry.h"

using rcuda::client::Log;
using rcuda::client::LogLevel;
using rcuda::client::Module;
using rcuda::client::Registry;

namespace {

Module* AsModule(void** handle) { return reinterpret_cast<Module*>(handle); }

void LogOnce(const char* what) {
  static std::once_flag flags[4];
  static const char* names[4] = {"__cudaRegisterHostVar", "__cudaRegisterUnifiedTable", "__cudaInitModule",
                                 "__cudaRegisterManagedVar"};
  for (int i = 0; i < 4; ++i)
    if (!std::strcmp(what, names[i])) std::call_once(flags[i], [&] {
        Log(LogLevel::kWarn, std::string(what) + ": rcuda does not support what this registers; kernels that "
                             "depend on it fail with cudaErrorNotSupported");
      });
}

}  // namespace

extern "C" {

RCUDA_EXPORT void** __cudaRegisterFatBinary(void* fat_cubin) {
  return reinterpret_cast<void**>(Registry::Get().AddModule(fat_cubin));
}

RCUDA_EXPORT void __cudaRegisterFatBinaryEnd(void** handle) {}

// Modules stay loaded on their sessions until the process ends, which ends
// the sessions: the server frees everything then.
RCUDA_EXPORT void __cudaUnregisterFatBinary(void** handle) {}

RCUDA_EXPORT void __cudaRegisterFunction(void** handle, const char* host_fun, char* device_fun,
                                         const char* device_name, int thread_limit, uint3* tid, uint3* bid,
                                         dim3* block_dim, dim3* grid_dim, int* warp_size) {
  Registry::Get().AddFunction(AsModule(handle), host_fun, device_fun ? device_fun : device_name);
}

RCUDA_EXPORT void __cudaRegisterVar(void** handle, char* host_var, char* device_address, const char* device_name,
                                    int ext, size_t size, int constant, int global) {
  Registry::Get().AddVariable(AsModule(handle), host_var, device_address ? device_address : device_name, size,
                              constant != 0, false);
}

// __managed__ variables: the program's code reaches them through a host
// pointer that the runtime must fill. rcuda points it at zeroed host memory
// so that host code does not crash, and refuses to launch the module's
// kernels (cudaErrorNotSupported) so that no result depends on memory the
// GPU never sees.
RCUDA_EXPORT void __cudaRegisterManagedVar(void** handle, void** host_var_ptr_address, char* device_address,
                                           const char* device_name, int ext, size_t size, int constant,
                                           int global) {
  LogOnce("__cudaRegisterManagedVar");
  void* shadow = std::calloc(1, size ? size : 1);
  if (host_var_ptr_address) *host_var_ptr_address = shadow;
  Registry::Get().AddVariable(AsModule(handle), host_var_ptr_address, device_address ? device_address : device_name,
                              size, constant != 0, true);
}

RCUDA_EXPORT char __cudaInitModule(void** handle) { return 1; }

RCUDA_EXPORT void __cudaRegisterHostVar(void** handle, const char* device_name, char* host_var, size_t size) {
  LogOnce("__cudaRegisterHostVar");
}

RCUDA_EXPORT void __cudaRegisterUnifiedTable(void** handle, void* table) { LogOnce("__cudaRegisterUnifiedTable"); }

}  // extern "C"
