// device_query: what the program sees of its GPUs. Through rcuda these are
// the remote GPUs named by RCUDA_DEVICE_COUNT / RCUDA_DEVICE_<i>.
//
//   build/bin/rcuda-run build/examples/device_query
#include <cstdio>

#include "example_util.h"

int main() {
  int runtime = 0, driver = 0, count = 0;
  CHECK_CUDA(cudaRuntimeGetVersion(&runtime));
  CHECK_CUDA(cudaDriverGetVersion(&driver));
  CHECK_CUDA(cudaGetDeviceCount(&count));
  std::printf("CUDA runtime %d.%d, driver %d.%d, %d device(s)\n", runtime / 1000, runtime % 1000 / 10,
              driver / 1000, driver % 1000 / 10, count);
  int problems = 0;
  for (int d = 0; d < count; ++d) {
    CHECK_CUDA(cudaSetDevice(d));
    cudaDeviceProp p;
    CHECK_CUDA(cudaGetDeviceProperties(&p, d));
    size_t free = 0, total = 0;
    CHECK_CUDA(cudaMemGetInfo(&free, &total));
    int sms = 0, warp = 0;
    CHECK_CUDA(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, d));
    CHECK_CUDA(cudaDeviceGetAttribute(&warp, cudaDevAttrWarpSize, d));
    std::printf("\ndevice %d: %s\n", d, p.name);
    std::printf("  compute capability      %d.%d\n", p.major, p.minor);
    std::printf("  multiprocessors         %d\n", p.multiProcessorCount);
    std::printf("  global memory           %.1f GiB (%.1f GiB free)\n", total / 1073741824.0, free / 1073741824.0);
    std::printf("  shared memory per block %zu KiB\n", p.sharedMemPerBlock / 1024);
    std::printf("  max threads per block   %d\n", p.maxThreadsPerBlock);
    std::printf("  max block dimensions    %d x %d x %d\n", p.maxThreadsDim[0], p.maxThreadsDim[1],
                p.maxThreadsDim[2]);
    std::printf("  max grid dimensions     %d x %d x %d\n", p.maxGridSize[0], p.maxGridSize[1], p.maxGridSize[2]);
    std::printf("  warp size               %d\n", p.warpSize);
    std::printf("  L2 cache                %d KiB\n", p.l2CacheSize / 1024);
    // The attributes and the properties describe the same device.
    if (sms != p.multiProcessorCount || warp != p.warpSize || free > total) {
      std::printf("  INCONSISTENT: attributes say %d SMs and warp size %d\n", sms, warp);
      ++problems;
    }
  }
  if (count < 1 || problems) {
    std::printf("device_query: FAILED\n");
    return 1;
  }
  std::printf("\ndevice_query: PASSED\n");
  return 0;
}
