#include "tests/fake_driver/launch.h"

#include <algorithm>
#include <cstring>

#include "common/kernel_params.h"
#include "tests/fake_driver/device_printf.h"
#include "tests/fake_driver/driver_state.h"
#include "tests/fake_driver/fake_gpu.h"

namespace fake {
namespace {

void* FindSymbol(const void* ctx, const char* name) {
  // A library's variables do not change after it is loaded.
  const auto* library = static_cast<const Library*>(ctx);
  auto it = library->variables.find(name);
  return it == library->variables.end() ? nullptr : reinterpret_cast<void*>(it->second.address);
}

int IsDeviceRange(const void*, const void* p, size_t bytes) {
  std::lock_guard lock(D().mu);
  // Pinned host memory is the GPU's to reach too (mapped: its device
  // pointer is its address, cuMemHostGetDevicePointer).
  const uint64_t at = reinterpret_cast<uint64_t>(p);
  return D().device_memory.Contains(at, bytes) || D().pinned_memory.Contains(at, bytes) ? 1 : 0;
}

CUresult CopyExtraBuffer(const Kernel& k, void** extra, std::vector<uint8_t>* params) {
  const void* buffer = nullptr;
  const size_t* size = nullptr;
  for (size_t i = 0; extra[i] != CU_LAUNCH_PARAM_END; i += 2) {
    if (extra[i] == CU_LAUNCH_PARAM_BUFFER_POINTER) {
      buffer = extra[i + 1];
    } else if (extra[i] == CU_LAUNCH_PARAM_BUFFER_SIZE) {
      size = static_cast<const size_t*>(extra[i + 1]);
    } else {
      Log("cuLaunchKernel: 'extra' option %p is not modeled", extra[i]);
      return CUDA_ERROR_INVALID_VALUE;
    }
  }
  if (!buffer || !size) return CUDA_ERROR_INVALID_VALUE;
  uint32_t expected = rcuda::ParamBufferSize(k.image->params);
  if (*size < expected) {
    Log("kernel %s: parameter buffer of %zu bytes, its parameters need %u", k.name.c_str(), *size, expected);
    return CUDA_ERROR_INVALID_VALUE;
  }
  const auto* bytes = static_cast<const uint8_t*>(buffer);
  params->assign(bytes, bytes + expected);
  return CUDA_SUCCESS;
}

}  // namespace

int MaxActiveBlocksPerSm(const Kernel& k, int block_size, size_t dynamic_shared) {
  if (block_size <= 0 || block_size > k.max_threads) return 0;
  uint64_t static_shared = k.image->static_shared_bytes;
  if (static_shared + dynamic_shared > static_cast<uint64_t>(gpu::kSharedPerBlockOptin)) return 0;
  int warps = (block_size + gpu::kWarpSize - 1) / gpu::kWarpSize;
  int blocks = std::min(gpu::kMaxBlocksPerSm, gpu::kMaxThreadsPerSm / (warps * gpu::kWarpSize));
  if (k.image->registers > 0) {
    int per_warp = (static_cast<int>(k.image->registers) * gpu::kWarpSize + gpu::kRegisterAllocationUnit - 1) /
                   gpu::kRegisterAllocationUnit * gpu::kRegisterAllocationUnit;
    blocks = std::min(blocks, gpu::kRegistersPerSm / per_warp / warps);
  }
  uint64_t shared = static_shared + dynamic_shared + gpu::kReservedSharedPerBlock;
  blocks = std::min<int64_t>(blocks, gpu::kSharedPerSm / shared);
  return std::max(blocks, 0);
}

int ClusterSizeLimit(const Kernel& k) {
  return k.non_portable_cluster_size_allowed ? gpu::kNonPortableClusterSize : gpu::kPortableClusterSize;
}

CUresult PrepareLaunch(Kernel* k, const unsigned grid[3], const unsigned block[3], unsigned shared_bytes,
                       void** kernel_params, void** extra, KernelLaunch* launch) {
  uint64_t threads = 1;
  for (int i = 0; i < 3; ++i) {
    if (grid[i] == 0 || grid[i] > static_cast<unsigned>(gpu::kMaxGridDim[i])) return CUDA_ERROR_INVALID_VALUE;
    if (block[i] == 0 || block[i] > static_cast<unsigned>(gpu::kMaxBlockDim[i])) return CUDA_ERROR_INVALID_VALUE;
    threads *= block[i];
  }
  if (threads > static_cast<uint64_t>(gpu::kMaxThreadsPerBlock)) return CUDA_ERROR_INVALID_VALUE;
  // More threads than __launch_bounds__ or the registers allow: "too many
  // resources requested for launch".
  if (threads > static_cast<uint64_t>(k->max_threads)) return CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES;
  uint64_t warps = (threads + gpu::kWarpSize - 1) / gpu::kWarpSize;
  if (uint64_t(k->image->registers) * gpu::kWarpSize * warps > static_cast<uint64_t>(gpu::kRegistersPerBlock)) {
    return CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES;
  }
  if (shared_bytes > static_cast<unsigned>(k->max_dynamic_shared)) return CUDA_ERROR_INVALID_VALUE;
  if (kernel_params && extra) return CUDA_ERROR_INVALID_VALUE;
  if (!k->host) {
    Log("kernel %s has no host implementation (RCUDA_FAKE_DRIVER_KERNELS): refused at launch", k->name.c_str());
    return CUDA_ERROR_NOT_FOUND;
  }
  const auto& layout = k->image->params;
  if (extra) {
    CUresult r = CopyExtraBuffer(*k, extra, &launch->params);
    if (r != CUDA_SUCCESS) return r;
  } else if (!layout.empty()) {
    if (!kernel_params) return CUDA_ERROR_INVALID_VALUE;
    if (!rcuda::PackKernelParams(layout, kernel_params, &launch->params).ok()) return CUDA_ERROR_INVALID_VALUE;
  }
  launch->library = k->library->shared_from_this();
  launch->kernel = k;
  launch->context = CurrentContext();
  std::copy(grid, grid + 3, launch->grid);
  std::copy(block, block + 3, launch->block);
  launch->shared_bytes = shared_bytes;
  return CUDA_SUCCESS;
}

CUresult ApplyLaunchAttributes(const CUlaunchAttribute* attributes, unsigned count, const KernelLaunch& launch) {
  if (count && !attributes) return CUDA_ERROR_INVALID_VALUE;
  const Kernel& k = *launch.kernel;
  for (unsigned i = 0; i < count; ++i) {
    const CUlaunchAttribute& a = attributes[i];
    switch (a.id) {
      case CU_LAUNCH_ATTRIBUTE_IGNORE:
      case CU_LAUNCH_ATTRIBUTE_PRIORITY:  // the fake does not model scheduling priorities
      case CU_LAUNCH_ATTRIBUTE_CLUSTER_SCHEDULING_POLICY_PREFERENCE:
        break;
      case CU_LAUNCH_ATTRIBUTE_COOPERATIVE: {
        if (!a.value.cooperative) break;
        uint64_t blocks = uint64_t(launch.grid[0]) * launch.grid[1] * launch.grid[2];
        int block_size = static_cast<int>(launch.block[0] * launch.block[1] * launch.block[2]);
        uint64_t resident = uint64_t(MaxActiveBlocksPerSm(k, block_size, launch.shared_bytes)) * gpu::kSmCount;
        if (blocks > resident) return CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE;
        break;
      }
      case CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION: {
        const unsigned dims[3] = {a.value.clusterDim.x, a.value.clusterDim.y, a.value.clusterDim.z};
        uint64_t size = 1;
        for (int d = 0; d < 3; ++d) {
          if (dims[d] == 0 || launch.grid[d] % dims[d] != 0) return CUDA_ERROR_INVALID_CLUSTER_SIZE;
          size *= dims[d];
        }
        if (size > static_cast<uint64_t>(ClusterSizeLimit(k))) return CUDA_ERROR_INVALID_CLUSTER_SIZE;
        break;
      }
      default:
        Log("launch attribute %d is not modeled by the fake driver", static_cast<int>(a.id));
        return CUDA_ERROR_NOT_SUPPORTED;
    }
  }
  return CUDA_SUCCESS;
}

CUresult RunKernel(const KernelLaunch& l) {
  const Kernel& k = *l.kernel;
  std::vector<uint32_t> offsets, sizes;
  for (const auto& p : k.image->params) {
    offsets.push_back(p.offset);
    sizes.push_back(p.size);
  }
  std::vector<uint8_t> shared(l.shared_bytes);
  rcuda_test_launch launch{};
  launch.grid = {l.grid[0], l.grid[1], l.grid[2]};
  launch.block = {l.block[0], l.block[1], l.block[2]};
  launch.params = l.params.data();
  launch.param_offsets = offsets.data();
  launch.param_sizes = sizes.data();
  launch.param_count = static_cast<uint32_t>(offsets.size());
  launch.dynamic_shared = shared.empty() ? nullptr : shared.data();
  launch.dynamic_shared_bytes = shared.size();
  launch.find_symbol = &FindSymbol;
  launch.is_device_range = &IsDeviceRange;
  launch.ctx = l.library.get();
  launch.device_printf = &DevicePrintf;
  launch.printf_ctx = l.context;
  launch.sampled_object = &SampledObjectOf;
  launch.sampled_level = &SampledLevelOf;
  int result = k.host(&launch);
  if (result != 0) Log("host kernel %s returned %d", k.name.c_str(), result);
  return static_cast<CUresult>(result);
}

}  // namespace fake
