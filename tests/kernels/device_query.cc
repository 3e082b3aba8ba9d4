// Host kernels of tests/cuda/device_query.cu.
#include "host_kernel_util.h"

using namespace rcuda::testk;

// The programs are built for sm_90 (cmake/CudaPrograms.cmake), so the device
// code's __CUDA_ARCH__ is 900.
RCUDA_TEST_KERNEL("_Z12reportDevicePi", report_device) {
  auto out = Param<int*>(launch, 0);
  if (!IsDeviceRange(launch, out, 4 * sizeof(int))) return kIllegalAddress;
  out[0] = 900;
  out[1] = 32;
  out[2] = static_cast<int>(launch->grid.x);
  out[3] = static_cast<int>(launch->block.x);
  return 0;
}
