// Host kernels of tests/cuda/sticky_fault.cu.
#include "host_kernel_util.h"

using namespace rcuda::testk;

RCUDA_TEST_KERNEL("_Z11fillSquaresPxi", fill_squares) {
  auto out = Param<long long*>(launch, 0);
  auto n = Param<int>(launch, 1);
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int i = static_cast<int>(GlobalX(launch, bi, ti));
    if (i < n) out[i] = static_cast<long long>(i) * i;
  });
  return 0;
}

// Models the GPU's fault: the write through `wild` is to memory the session
// does not own, so the kernel ends with cudaErrorIllegalAddress (after the
// other threads' writes, which on a GPU may or may not have happened).
RCUDA_TEST_KERNEL("_Z9writeWildPiiS_", write_wild) {
  auto out = Param<int*>(launch, 0);
  auto n = Param<int>(launch, 1);
  auto wild = Param<int*>(launch, 2);
  int status = 0;
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int i = static_cast<int>(GlobalX(launch, bi, ti));
    if (i < n) out[i] = i;
    if (i == n / 2) {
      if (IsDeviceRange(launch, wild, sizeof(int)))
        *wild = 42;
      else
        status = kIllegalAddress;
    }
  });
  return status;
}
