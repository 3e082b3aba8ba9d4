// Kernel functions: attributes, occupancy, and the explicit launch calls
// with launch attributes (cudaLaunchKernelExC, cudaLaunchCooperativeKernel).
#include <cstring>

#include "client/api_common.h"
#include "client/graph.h"
#include "client/launch.h"
#include "client/objects.h"
#include "client/registry.h"

using namespace rcuda::client;

namespace {

// A function argument may be a host stub or a cudaKernel_t from
// cudaGetKernel/__cudaGetKernel (our Function objects).
const Function* ToFunction(const void* func) {
  if (const Function* f = Registry::Get().FindFunction(func)) return f;
  return Registry::Get().IsFunction(func) ? static_cast<const Function*>(func) : nullptr;
}

cudaError_t RemoteOf(const void* func, Session** session, rcuda::FunctionDescription* rf,
                     const Function** function = nullptr) {
  const Function* f = ToFunction(func);
  if (!f) return cudaErrorInvalidDeviceFunction;
  cudaError_t error = cudaSuccess;
  *session = CurrentSession(&error);
  if (!*session) return error;
  rcuda::Status s = (*session)->GetFunction(*f, rf);
  if (!s.ok()) return static_cast<cudaError_t>(s.ToCudaError());
  if (function) *function = f;
  return cudaSuccess;
}

cudaError_t LaunchExC(const cudaLaunchConfig_t* config, const void* func, void** args, bool per_thread) {
  if (!config) return Fail(cudaErrorInvalidValue);
  rcuda::LaunchOptions extras;
  for (unsigned i = 0; i < config->numAttrs; ++i) {
    const cudaLaunchAttribute& a = config->attrs[i];
    switch (a.id) {
      case cudaLaunchAttributeCooperative:
        extras.cooperative = a.val.cooperative != 0;
        break;
      case cudaLaunchAttributeClusterDimension:
        extras.cluster = rcuda::Dim3{a.val.clusterDim.x, a.val.clusterDim.y, a.val.clusterDim.z};
        break;
      case cudaLaunchAttributePriority:
        extras.has_priority = true;
        extras.priority = a.val.priority;
        break;
      case cudaLaunchAttributeIgnore:
        break;
      default:
        return Fail(cudaErrorNotSupported);
    }
  }
  return LaunchOnStream(ToFunction(func), config->gridDim, config->blockDim, args, config->dynamicSmemBytes,
                  config->stream, extras, per_thread);
}

}  // namespace

extern "C" {

RCUDA_EXPORT cudaError_t cudaFuncGetAttributes(cudaFuncAttributes* attr, const void* func) {
  if (!attr) return Fail(cudaErrorInvalidValue);
  Session* session;
  rcuda::FunctionDescription rf;
  cudaError_t e = RemoteOf(func, &session, &rf);
  if (e != cudaSuccess) return Fail(e);
  std::memset(attr, 0, sizeof *attr);
  attr->sharedSizeBytes = rf.shared_size_bytes;
  attr->constSizeBytes = rf.const_size_bytes;
  attr->localSizeBytes = rf.local_size_bytes;
  attr->maxThreadsPerBlock = rf.max_threads_per_block;
  attr->numRegs = rf.num_regs;
  attr->ptxVersion = rf.ptx_version;
  attr->binaryVersion = rf.binary_version;
  attr->maxDynamicSharedSizeBytes = rf.max_dynamic_shared_size_bytes;
  attr->preferredShmemCarveout = -1;
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaFuncSetAttribute(const void* func, cudaFuncAttribute attr, int value) {
  Session* session;
  rcuda::FunctionDescription rf;
  const Function* f;
  cudaError_t e = RemoteOf(func, &session, &rf, &f);
  if (e != cudaSuccess) return Fail(e);
  rcuda::Status s = session->FuncSetAttribute(rf.handle, attr, value);
  if (s.ok() && attr == cudaFuncAttributeMaxDynamicSharedMemorySize) session->NoteMaxDynamicShared(*f, value);
  return Return(s);
}

// cudaFuncSetAttribute for one device: that device's session, whichever is
// current.
RCUDA_EXPORT cudaError_t cudaKernelSetAttributeForDevice(cudaKernel_t kernel, cudaFuncAttribute attr, int value,
                                                         int device) {
  const Function* f = ToFunction(kernel);
  if (!f) return Fail(cudaErrorInvalidDeviceFunction);
  Session* session = Runtime::Get().session(device);
  if (!session) return Fail(cudaErrorInvalidDevice);
  rcuda::FunctionDescription rf;
  rcuda::Status s = session->GetFunction(*f, &rf);
  if (s.ok()) s = session->FuncSetAttribute(rf.handle, attr, value);
  if (s.ok() && attr == cudaFuncAttributeMaxDynamicSharedMemorySize) session->NoteMaxDynamicShared(*f, value);
  return Return(s);
}

RCUDA_EXPORT cudaError_t cudaFuncSetCacheConfig(const void* func, cudaFuncCache config) {
  Session* session;
  rcuda::FunctionDescription rf;
  cudaError_t e = RemoteOf(func, &session, &rf);
  if (e != cudaSuccess) return Fail(e);
  return Return(session->FuncSetCacheConfig(rf.handle, config));
}

// Shared memory bank configuration no longer exists on current GPUs; CUDA
// itself ignores it.
RCUDA_EXPORT cudaError_t cudaFuncSetSharedMemConfig(const void* func, cudaSharedMemConfig config) {
  return ToFunction(func) ? cudaSuccess : Fail(cudaErrorInvalidDeviceFunction);
}

RCUDA_EXPORT cudaError_t cudaFuncGetName(const char** name, const void* func) {
  if (!name) return Fail(cudaErrorInvalidValue);
  const Function* f = ToFunction(func);
  if (!f) return Fail(cudaErrorInvalidDeviceFunction);
  *name = f->device_name.c_str();
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaFuncGetParamInfo(const void* func, size_t index, size_t* offset, size_t* size) {
  Session* session;
  rcuda::FunctionDescription rf;
  cudaError_t e = RemoteOf(func, &session, &rf);
  if (e != cudaSuccess) return Fail(e);
  if (index >= rf.params.size()) return Fail(cudaErrorInvalidValue);
  if (offset) *offset = rf.params[index].offset;
  if (size) *size = rf.params[index].size;
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaGetKernel(cudaKernel_t* kernel, const void* func) {
  if (!kernel) return Fail(cudaErrorInvalidValue);
  const Function* f = ToFunction(func);
  if (!f) return Fail(cudaErrorInvalidDeviceFunction);
  *kernel = reinterpret_cast<cudaKernel_t>(const_cast<Function*>(f));
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaGetFuncBySymbol(cudaFunction_t* function, const void* symbol) {
  if (!function) return Fail(cudaErrorInvalidValue);
  const Function* f = ToFunction(symbol);
  if (!f) return Fail(cudaErrorInvalidDeviceFunction);
  *function = reinterpret_cast<cudaFunction_t>(const_cast<Function*>(f));
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaOccupancyMaxActiveBlocksPerMultiprocessorWithFlags(int* blocks, const void* func,
                                                                               int block_size, size_t shared,
                                                                               unsigned int flags) {
  if (!blocks) return Fail(cudaErrorInvalidValue);
  Session* session;
  rcuda::FunctionDescription rf;
  cudaError_t e = RemoteOf(func, &session, &rf);
  if (e != cudaSuccess) return Fail(e);
  int64_t n = 0;
  rcuda::Status s = session->OccupancyMaxActiveBlocks(rf.handle, block_size, static_cast<int64_t>(shared), flags, &n);
  if (!s.ok()) return Return(s);
  *blocks = static_cast<int>(n);
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaOccupancyMaxActiveBlocksPerMultiprocessor(int* blocks, const void* func, int block_size,
                                                                      size_t shared) {
  return cudaOccupancyMaxActiveBlocksPerMultiprocessorWithFlags(blocks, func, block_size, shared,
                                                                cudaOccupancyDefault);
}

RCUDA_EXPORT cudaError_t cudaOccupancyAvailableDynamicSMemPerBlock(size_t* bytes, const void* func, int blocks,
                                                                  int block_size) {
  if (!bytes) return Fail(cudaErrorInvalidValue);
  Session* session;
  rcuda::FunctionDescription rf;
  cudaError_t e = RemoteOf(func, &session, &rf);
  if (e != cudaSuccess) return Fail(e);
  int64_t n = 0;
  rcuda::Status s = session->OccupancyAvailableDynamicSMem(rf.handle, blocks, block_size, &n);
  if (!s.ok()) return Return(s);
  *bytes = static_cast<size_t>(n);
  return cudaSuccess;
}

static cudaError_t ClusterQuery(int* out, const void* func, const cudaLaunchConfig_t* config, bool active) {
  if (!out || !config) return Fail(cudaErrorInvalidValue);
  Session* session;
  rcuda::FunctionDescription rf;
  cudaError_t e = RemoteOf(func, &session, &rf);
  if (e != cudaSuccess) return Fail(e);
  int64_t cx = 0, cy = 0, cz = 0;
  for (unsigned i = 0; i < config->numAttrs; ++i) {
    if (config->attrs[i].id == cudaLaunchAttributeClusterDimension) {
      cx = config->attrs[i].val.clusterDim.x;
      cy = config->attrs[i].val.clusterDim.y;
      cz = config->attrs[i].val.clusterDim.z;
    }
  }
  const dim3 g = config->gridDim, b = config->blockDim;
  const int64_t smem = static_cast<int64_t>(config->dynamicSmemBytes);
  int64_t n = 0;
  rcuda::Status s = active ? session->OccupancyMaxActiveClusters(rf.handle, g.x, g.y, g.z, b.x, b.y, b.z, smem, cx, cy,
                                                                  cz, &n)
                           : session->OccupancyMaxPotentialClusterSize(rf.handle, g.x, g.y, g.z, b.x, b.y, b.z, smem,
                                                                        cx, cy, cz, &n);
  if (!s.ok()) return Return(s);
  *out = static_cast<int>(n);
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaOccupancyMaxPotentialClusterSize(int* size, const void* func,
                                                             const cudaLaunchConfig_t* config) {
  return ClusterQuery(size, func, config, /*active=*/false);
}

RCUDA_EXPORT cudaError_t cudaOccupancyMaxActiveClusters(int* clusters, const void* func,
                                                       const cudaLaunchConfig_t* config) {
  return ClusterQuery(clusters, func, config, /*active=*/true);
}

}  // extern "C"

cudaError_t exports::cudaLaunchKernelExC(const cudaLaunchConfig_t* config, const void* func, void** args,
                                         bool per_thread) {
  return LaunchExC(config, func, args, per_thread);
}

cudaError_t exports::cudaLaunchCooperativeKernel(const void* func, dim3 grid, dim3 block, void** args, size_t shared,
                                                 cudaStream_t stream, bool per_thread) {
  rcuda::LaunchOptions extras;
  extras.cooperative = true;
  return LaunchOnStream(ToFunction(func), grid, block, args, shared, stream, extras, per_thread);
}
