// Kernel launches: the <<<>>> path of CUDA 13 (__cudaPushCallConfiguration,
// __cudaPopCallConfiguration, __cudaGetKernel, __cudaLaunchKernel) and the
// explicit cudaLaunchKernel.
#include <vector>

#include "client/api_common.h"
#include "client/launch.h"
#include "client/registry.h"

using namespace rcuda::client;

namespace {

struct CallConfiguration {
  dim3 grid, block;
  size_t shared_bytes;
  cudaStream_t stream;
};

// <<<>>> may nest (a kernel argument that itself launches), hence a stack.
thread_local std::vector<CallConfiguration> call_stack;

cudaError_t LaunchFunction(const Function* function, dim3 grid, dim3 block, void** args, size_t shared_bytes,
                           cudaStream_t stream, bool per_thread) {
  return LaunchOnStream(function, grid, block, args, shared_bytes, stream, rcuda::LaunchOptions{}, per_thread);
}

// cudaLaunchKernel takes a host stub, or a cudaKernel_t (our Function).
const Function* ToFunction(const void* func) {
  if (const Function* f = Registry::Get().FindFunction(func)) return f;
  return Registry::Get().IsFunction(func) ? static_cast<const Function*>(func) : nullptr;
}

}  // namespace

extern "C" {

RCUDA_EXPORT unsigned __cudaPushCallConfiguration(dim3 grid, dim3 block, size_t shared_bytes,
                                                  struct CUstream_st* stream) {
  call_stack.push_back({grid, block, shared_bytes, stream});
  return 0;
}

RCUDA_EXPORT cudaError_t __cudaPopCallConfiguration(dim3* grid, dim3* block, size_t* shared_bytes, void* stream) {
  if (call_stack.empty()) return Fail(cudaErrorMissingConfiguration);
  CallConfiguration c = call_stack.back();
  call_stack.pop_back();
  *grid = c.grid;
  *block = c.block;
  *shared_bytes = c.shared_bytes;
  *static_cast<cudaStream_t*>(stream) = c.stream;
  return cudaSuccess;
}

// The kernel handle is the registry's Function: stable for the process and
// valid on every device.
RCUDA_EXPORT cudaError_t __cudaGetKernel(cudaKernel_t* kernel, const void* host_fun) {
  Function* f = Registry::Get().FindFunction(host_fun);
  if (!f) return Fail(cudaErrorInvalidDeviceFunction);
  *kernel = reinterpret_cast<cudaKernel_t>(f);
  return cudaSuccess;
}

}  // extern "C"

cudaError_t exports::__cudaLaunchKernel(cudaKernel_t kernel, dim3 grid, dim3 block, void** args, size_t shared_bytes,
                                        cudaStream_t stream, bool per_thread) {
  return LaunchFunction(reinterpret_cast<const Function*>(kernel), grid, block, args, shared_bytes, stream, per_thread);
}

cudaError_t exports::cudaLaunchKernel(const void* func, dim3 grid, dim3 block, void** args, size_t shared_bytes,
                                      cudaStream_t stream, bool per_thread) {
  return LaunchFunction(ToFunction(func), grid, block, args, shared_bytes, stream, per_thread);
}
