// TEST EQUIPMENT: kernel launches of the fake CUDA driver. A launch is
// checked against the device and the kernel when it is queued (what a GPU
// driver refuses at the call, the fake refuses at the call), its arguments
// are copied then, and it runs later on the stream's worker as the kernel's
// host function. The occupancy model lives here too, since the cooperative
// launch check depends on it.
#pragma once

#include <cuda.h>

#include <memory>
#include <vector>

#include "tests/fake_driver/library.h"

namespace fake {

struct Context;

struct KernelLaunch {
  std::shared_ptr<Library> library;  // keeps the kernel and the module's variables alive
  Kernel* kernel = nullptr;
  Context* context = nullptr;  // whose printf FIFO the kernel's printf fills
  unsigned grid[3] = {1, 1, 1};
  unsigned block[3] = {1, 1, 1};
  unsigned shared_bytes = 0;
  std::vector<uint8_t> params;  // laid out as the cubin says
};

// Checks grid, block and shared memory and copies the arguments, from
// `kernel_params` or from the CU_LAUNCH_PARAM_BUFFER_POINTER of `extra`.
// Lock held.
CUresult PrepareLaunch(Kernel* kernel, const unsigned grid[3], const unsigned block[3], unsigned shared_bytes,
                       void** kernel_params, void** extra, KernelLaunch* launch);

// The launch attributes of cuLaunchKernelEx the fake models: cooperative
// (refused when the grid cannot be co-resident), cluster dimension (refused
// when it does not divide the grid or exceeds the cluster size limit),
// priority and the cluster scheduling policy (accepted). Others are refused.
CUresult ApplyLaunchAttributes(const CUlaunchAttribute* attributes, unsigned count, const KernelLaunch& launch);

// Runs the launch's host kernel, without the lock. Anything but success
// faults the context.
CUresult RunKernel(const KernelLaunch& launch);

// The occupancy model: blocks of `block_size` threads and `dynamic_shared`
// bytes that fit on one SM, limited by threads, blocks, registers and shared
// memory per SM (fake_gpu.h).
int MaxActiveBlocksPerSm(const Kernel& kernel, int block_size, size_t dynamic_shared);

// The largest cluster size the kernel allows (8, or 16 when it allows
// non-portable sizes).
int ClusterSizeLimit(const Kernel& kernel);

// The texture (surface 0) or surface object a host kernel names, while its
// memory lives: 0, or a cudaError_t (api_array.cc). Takes the lock.
int SampledObjectOf(uint64_t object, int surface, rcuda_test_sampled_object* out);
// Level `level` of a texture object's mipmapped array (level 0 of any
// other texture): 0, a cudaError_t, or 1 for a level it does not have.
int SampledLevelOf(uint64_t object, uint32_t level, rcuda_test_sampled_object* out);

}  // namespace fake
