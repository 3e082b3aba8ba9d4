// TEST EQUIPMENT: cuLaunchKernel and cuLaunchKernelEx of the fake CUDA
// driver (launch.h): checked and copied at the call, run on the stream's
// worker as the kernel's host function.
#include "tests/fake_driver/device_printf.h"
#include "tests/fake_driver/entry_points.h"
#include "tests/fake_driver/launch.h"
#include "tests/fake_driver/stream_engine.h"

namespace fake {
namespace {

CUresult Queue(Context* ctx, CUstream stream, KernelLaunch launch) {
  Stream* s;
  CUresult r = ResolveStream(ctx, stream, &s);
  if (r != CUDA_SUCCESS) return r;
  Op op;
  op.what = "kernel launch";
  op.run = [launch = std::move(launch)] { return RunKernel(launch); };
  Enqueue(s, std::move(op));
  return CUDA_SUCCESS;
}

// The start of a launch is a synchronization point for device printf: what
// earlier kernels printed is written out (taken before this launch is
// queued, so never what this one prints).
CUresult WriteEarlierOutput(std::unique_lock<std::mutex>& lock, const std::string& earlier, CUresult result) {
  if (!earlier.empty()) {
    lock.unlock();
    WriteDevicePrintf(earlier);
  }
  return result;
}

}  // namespace

CUresult cuLaunchKernel(CUfunction function, unsigned int grid_x, unsigned int grid_y, unsigned int grid_z,
                        unsigned int block_x, unsigned int block_y, unsigned int block_z, unsigned int shared_bytes,
                        CUstream stream, void** kernel_params, void** extra) {
  std::unique_lock lock(D().mu);
  Context* ctx;
  CUresult r = UsableContext(&ctx);
  if (r != CUDA_SUCCESS) return r;
  const std::string earlier = TakeDevicePrintf(ctx);
  Kernel* k;
  if ((r = KernelOf(function, &k)) != CUDA_SUCCESS) return WriteEarlierOutput(lock, earlier, r);
  const unsigned grid[3] = {grid_x, grid_y, grid_z}, block[3] = {block_x, block_y, block_z};
  KernelLaunch launch;
  r = PrepareLaunch(k, grid, block, shared_bytes, kernel_params, extra, &launch);
  if (r == CUDA_SUCCESS) r = Queue(ctx, stream, std::move(launch));
  return WriteEarlierOutput(lock, earlier, r);
}

CUresult cuLaunchKernelEx(const CUlaunchConfig* config, CUfunction function, void** kernel_params, void** extra) {
  std::unique_lock lock(D().mu);
  Context* ctx;
  CUresult r = UsableContext(&ctx);
  if (r != CUDA_SUCCESS) return r;
  if (!config) return CUDA_ERROR_INVALID_VALUE;
  const std::string earlier = TakeDevicePrintf(ctx);
  Kernel* k;
  if ((r = KernelOf(function, &k)) != CUDA_SUCCESS) return WriteEarlierOutput(lock, earlier, r);
  const unsigned grid[3] = {config->gridDimX, config->gridDimY, config->gridDimZ};
  const unsigned block[3] = {config->blockDimX, config->blockDimY, config->blockDimZ};
  KernelLaunch launch;
  r = PrepareLaunch(k, grid, block, config->sharedMemBytes, kernel_params, extra, &launch);
  if (r == CUDA_SUCCESS) r = ApplyLaunchAttributes(config->attrs, config->numAttrs, launch);
  if (r == CUDA_SUCCESS) r = Queue(ctx, config->hStream, std::move(launch));
  return WriteEarlierOutput(lock, earlier, r);
}

}  // namespace fake
