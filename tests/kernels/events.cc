// Host kernels of tests/cuda/events.cu.
#include "host_kernel_util.h"

using namespace rcuda::testk;

RCUDA_TEST_KERNEL("_Z10spinKernelPixi", spin_kernel) {
  auto out = Param<int*>(launch, 0);
  auto spin_ns = Param<long long>(launch, 1);
  auto value = Param<int>(launch, 2);
  if (!IsDeviceRange(launch, out, sizeof(int))) return kIllegalAddress;
  SleepNs(spin_ns);
  *out = value;
  return 0;
}
