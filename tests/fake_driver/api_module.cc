// TEST EQUIPMENT: the fake CUDA driver's libraries, kernels, function
// attributes and occupancy calls (library.h, launch.h).
#include <algorithm>

#include "tests/fake_driver/device_printf.h"
#include "tests/fake_driver/driver_state.h"
#include "tests/fake_driver/entry_points.h"
#include "tests/fake_driver/fake_gpu.h"
#include "tests/fake_driver/launch.h"
#include "tests/fake_driver/library.h"

namespace fake {
namespace {

CUresult InitializedKernel(const void* handle, Kernel** kernel) {
  if (!D().initialized) return CUDA_ERROR_NOT_INITIALIZED;
  return KernelOf(handle, kernel);
}

int BlockSize(const CUlaunchConfig& c) { return static_cast<int>(c.blockDimX * c.blockDimY * c.blockDimZ); }

// The cluster size a config asks for (0: none).
CUresult ClusterSize(const CUlaunchConfig& c, const Kernel& k, int* size) {
  *size = 0;
  if (c.numAttrs && !c.attrs) return CUDA_ERROR_INVALID_VALUE;
  for (unsigned i = 0; i < c.numAttrs; ++i) {
    if (c.attrs[i].id != CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION) continue;
    const auto& d = c.attrs[i].value.clusterDim;
    if (d.x == 0 || d.y == 0 || d.z == 0) return CUDA_ERROR_INVALID_CLUSTER_SIZE;
    *size = static_cast<int>(d.x * d.y * d.z);
  }
  if (*size == 0 && k.required_cluster[0]) *size = k.required_cluster[0] * std::max(1, k.required_cluster[1]) *
                                                   std::max(1, k.required_cluster[2]);
  return CUDA_SUCCESS;
}

}  // namespace

CUresult cuLibraryLoadData(CUlibrary* library, const void* code, CUjit_option*, void**, unsigned int,
                           CUlibraryOption*, void**, unsigned int) {
  std::unique_lock lock(D().mu);
  if (!D().initialized) return CUDA_ERROR_NOT_INITIALIZED;
  if (!library) return CUDA_ERROR_INVALID_VALUE;
  std::shared_ptr<Library> loaded;
  CUresult r = LoadLibrary(code, &loaded);
  if (r != CUDA_SUCCESS) return r;
  *library = reinterpret_cast<CUlibrary>(loaded.get());
  return FlushedAt(lock, CurrentContext(), CUDA_SUCCESS);  // module load: a synchronization point
}

CUresult cuLibraryUnload(CUlibrary library) {
  std::unique_lock lock(D().mu);
  if (!D().initialized) return CUDA_ERROR_NOT_INITIALIZED;
  std::shared_ptr<Library> l = FindLibrary(library);
  if (!l) return CUDA_ERROR_INVALID_HANDLE;
  UnloadLibrary(l.get());
  return FlushedAt(lock, CurrentContext(), CUDA_SUCCESS);  // module unload too
}

CUresult cuLibraryGetKernel(CUkernel* kernel, CUlibrary library, const char* name) {
  std::lock_guard lock(D().mu);
  if (!D().initialized) return CUDA_ERROR_NOT_INITIALIZED;
  std::shared_ptr<Library> l = FindLibrary(library);
  if (!l) return CUDA_ERROR_INVALID_HANDLE;
  if (!kernel || !name) return CUDA_ERROR_INVALID_VALUE;
  Kernel* k;
  CUresult r = GetKernel(l.get(), name, &k);
  if (r != CUDA_SUCCESS) return r;
  *kernel = reinterpret_cast<CUkernel>(k);
  return CUDA_SUCCESS;
}

CUresult cuLibraryGetGlobal(CUdeviceptr* address, size_t* bytes, CUlibrary library, const char* name) {
  std::lock_guard lock(D().mu);
  if (!D().initialized) return CUDA_ERROR_NOT_INITIALIZED;
  std::shared_ptr<Library> l = FindLibrary(library);
  if (!l) return CUDA_ERROR_INVALID_HANDLE;
  if (!name) return CUDA_ERROR_INVALID_VALUE;
  auto it = l->variables.find(name);
  if (it == l->variables.end()) return CUDA_ERROR_NOT_FOUND;
  if (address) *address = it->second.address;
  if (bytes) *bytes = it->second.size;
  return CUDA_SUCCESS;
}

CUresult cuKernelGetFunction(CUfunction* function, CUkernel kernel) {
  std::lock_guard lock(D().mu);
  Context* ctx;
  CUresult r = UsableContext(&ctx);
  if (r != CUDA_SUCCESS) return r;
  Kernel* k;
  if ((r = KernelOf(kernel, &k)) != CUDA_SUCCESS) return r;
  if (!function) return CUDA_ERROR_INVALID_VALUE;
  *function = reinterpret_cast<CUfunction>(k);
  return CUDA_SUCCESS;
}

CUresult cuFuncGetParamInfo(CUfunction function, size_t index, size_t* offset, size_t* size) {
  std::lock_guard lock(D().mu);
  Kernel* k;
  CUresult r = InitializedKernel(function, &k);
  if (r != CUDA_SUCCESS) return r;
  if (index >= k->image->params.size()) return CUDA_ERROR_INVALID_VALUE;
  if (offset) *offset = k->image->params[index].offset;
  if (size) *size = k->image->params[index].size;
  return CUDA_SUCCESS;
}

CUresult cuFuncGetAttribute(int* value, CUfunction_attribute attribute, CUfunction function) {
  std::lock_guard lock(D().mu);
  Kernel* k;
  CUresult r = InitializedKernel(function, &k);
  if (r != CUDA_SUCCESS) return r;
  if (!value) return CUDA_ERROR_INVALID_VALUE;
  switch (attribute) {
    case CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK: {
      // Registers limit it too, as on a GPU.
      int by_registers = gpu::kMaxThreadsPerBlock;
      if (k->image->registers > 0) {
        by_registers = gpu::kRegistersPerBlock / static_cast<int>(k->image->registers) / gpu::kWarpSize * gpu::kWarpSize;
      }
      *value = std::min(k->max_threads, by_registers);
      return CUDA_SUCCESS;
    }
    case CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES: *value = static_cast<int>(k->image->static_shared_bytes); return CUDA_SUCCESS;
    case CU_FUNC_ATTRIBUTE_CONST_SIZE_BYTES: *value = 0; return CUDA_SUCCESS;
    case CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES: *value = 0; return CUDA_SUCCESS;
    case CU_FUNC_ATTRIBUTE_NUM_REGS: *value = static_cast<int>(k->image->registers); return CUDA_SUCCESS;
    case CU_FUNC_ATTRIBUTE_PTX_VERSION:
    case CU_FUNC_ATTRIBUTE_BINARY_VERSION: *value = gpu::kMajor * 10 + gpu::kMinor; return CUDA_SUCCESS;
    case CU_FUNC_ATTRIBUTE_CACHE_MODE_CA: *value = 0; return CUDA_SUCCESS;
    case CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES: *value = k->max_dynamic_shared; return CUDA_SUCCESS;
    case CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT: *value = k->carveout; return CUDA_SUCCESS;
    case CU_FUNC_ATTRIBUTE_CLUSTER_SIZE_MUST_BE_SET: *value = 0; return CUDA_SUCCESS;
    case CU_FUNC_ATTRIBUTE_REQUIRED_CLUSTER_WIDTH: *value = k->required_cluster[0]; return CUDA_SUCCESS;
    case CU_FUNC_ATTRIBUTE_REQUIRED_CLUSTER_HEIGHT: *value = k->required_cluster[1]; return CUDA_SUCCESS;
    case CU_FUNC_ATTRIBUTE_REQUIRED_CLUSTER_DEPTH: *value = k->required_cluster[2]; return CUDA_SUCCESS;
    case CU_FUNC_ATTRIBUTE_NON_PORTABLE_CLUSTER_SIZE_ALLOWED: *value = k->non_portable_cluster_size_allowed; return CUDA_SUCCESS;
    case CU_FUNC_ATTRIBUTE_CLUSTER_SCHEDULING_POLICY_PREFERENCE: *value = k->cluster_scheduling_policy; return CUDA_SUCCESS;
    default:
      return CUDA_ERROR_INVALID_VALUE;
  }
}

CUresult cuFuncSetAttribute(CUfunction function, CUfunction_attribute attribute, int value) {
  std::lock_guard lock(D().mu);
  Kernel* k;
  CUresult r = InitializedKernel(function, &k);
  if (r != CUDA_SUCCESS) return r;
  switch (attribute) {
    case CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES:
      if (value < 0 || value > gpu::kSharedPerBlockOptin - static_cast<int>(k->image->static_shared_bytes)) {
        return CUDA_ERROR_INVALID_VALUE;
      }
      k->max_dynamic_shared = value;
      return CUDA_SUCCESS;
    case CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT:
      if (value < -1 || value > 100) return CUDA_ERROR_INVALID_VALUE;
      k->carveout = value;
      return CUDA_SUCCESS;
    case CU_FUNC_ATTRIBUTE_REQUIRED_CLUSTER_WIDTH:
    case CU_FUNC_ATTRIBUTE_REQUIRED_CLUSTER_HEIGHT:
    case CU_FUNC_ATTRIBUTE_REQUIRED_CLUSTER_DEPTH:
      if (value < 0) return CUDA_ERROR_INVALID_VALUE;
      k->required_cluster[attribute - CU_FUNC_ATTRIBUTE_REQUIRED_CLUSTER_WIDTH] = value;
      return CUDA_SUCCESS;
    case CU_FUNC_ATTRIBUTE_NON_PORTABLE_CLUSTER_SIZE_ALLOWED:
      if (value != 0 && value != 1) return CUDA_ERROR_INVALID_VALUE;
      k->non_portable_cluster_size_allowed = value;
      return CUDA_SUCCESS;
    case CU_FUNC_ATTRIBUTE_CLUSTER_SCHEDULING_POLICY_PREFERENCE:
      if (value < CU_CLUSTER_SCHEDULING_POLICY_DEFAULT || value > CU_CLUSTER_SCHEDULING_POLICY_LOAD_BALANCING) {
        return CUDA_ERROR_INVALID_VALUE;
      }
      k->cluster_scheduling_policy = value;
      return CUDA_SUCCESS;
    default:
      return CUDA_ERROR_INVALID_VALUE;  // read-only or unknown
  }
}

CUresult cuFuncSetCacheConfig(CUfunction function, CUfunc_cache config) {
  std::lock_guard lock(D().mu);
  Kernel* k;
  CUresult r = InitializedKernel(function, &k);
  if (r != CUDA_SUCCESS) return r;
  if (config < CU_FUNC_CACHE_PREFER_NONE || config > CU_FUNC_CACHE_PREFER_EQUAL) return CUDA_ERROR_INVALID_VALUE;
  k->cache_config = config;
  return CUDA_SUCCESS;
}

CUresult cuOccupancyMaxActiveBlocksPerMultiprocessorWithFlags(int* blocks, CUfunction function, int block_size,
                                                              size_t dynamic_shared, unsigned int flags) {
  std::lock_guard lock(D().mu);
  Kernel* k;
  CUresult r = InitializedKernel(function, &k);
  if (r != CUDA_SUCCESS) return r;
  if (!blocks || block_size <= 0 || (flags & ~CU_OCCUPANCY_DISABLE_CACHING_OVERRIDE)) return CUDA_ERROR_INVALID_VALUE;
  *blocks = MaxActiveBlocksPerSm(*k, block_size, dynamic_shared);
  return CUDA_SUCCESS;
}

// The most dynamic shared memory per block that lets `blocks` blocks of
// `block_size` threads share one SM.
CUresult cuOccupancyAvailableDynamicSMemPerBlock(size_t* bytes, CUfunction function, int blocks, int block_size) {
  std::lock_guard lock(D().mu);
  Kernel* k;
  CUresult r = InitializedKernel(function, &k);
  if (r != CUDA_SUCCESS) return r;
  if (!bytes || blocks <= 0 || block_size <= 0) return CUDA_ERROR_INVALID_VALUE;
  *bytes = 0;
  if (MaxActiveBlocksPerSm(*k, block_size, 0) < blocks) return CUDA_SUCCESS;
  int64_t per_block = gpu::kSharedPerSm / blocks - gpu::kReservedSharedPerBlock -
                      static_cast<int64_t>(k->image->static_shared_bytes);
  per_block = std::min<int64_t>(per_block, gpu::kSharedPerBlockOptin - static_cast<int64_t>(k->image->static_shared_bytes));
  *bytes = static_cast<size_t>(std::max<int64_t>(per_block, 0));
  return CUDA_SUCCESS;
}

CUresult cuOccupancyMaxPotentialClusterSize(int* size, CUfunction function, const CUlaunchConfig* config) {
  std::lock_guard lock(D().mu);
  Kernel* k;
  CUresult r = InitializedKernel(function, &k);
  if (r != CUDA_SUCCESS) return r;
  if (!size || !config) return CUDA_ERROR_INVALID_VALUE;
  int resident = MaxActiveBlocksPerSm(*k, BlockSize(*config), config->sharedMemBytes) * gpu::kSmCount;
  *size = std::min(ClusterSizeLimit(*k), resident);
  return CUDA_SUCCESS;
}

CUresult cuOccupancyMaxActiveClusters(int* clusters, CUfunction function, const CUlaunchConfig* config) {
  std::lock_guard lock(D().mu);
  Kernel* k;
  CUresult r = InitializedKernel(function, &k);
  if (r != CUDA_SUCCESS) return r;
  if (!clusters || !config) return CUDA_ERROR_INVALID_VALUE;
  int cluster = 0;
  if ((r = ClusterSize(*config, *k, &cluster)) != CUDA_SUCCESS) return r;
  if (cluster == 0 || cluster > ClusterSizeLimit(*k)) return CUDA_ERROR_INVALID_CLUSTER_SIZE;
  int resident = MaxActiveBlocksPerSm(*k, BlockSize(*config), config->sharedMemBytes) * gpu::kSmCount;
  *clusters = resident / cluster;
  return CUDA_SUCCESS;
}

}  // namespace fake
