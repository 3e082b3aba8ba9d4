// Host kernels of tests/cuda/multi_device.cu.
#include "host_kernel_util.h"

using namespace rcuda::testk;

RCUDA_TEST_KERNEL("_Z13scaleByDevicePKiPiii", scale_by_device) {
  auto in = Param<const int*>(launch, 0);
  auto out = Param<int*>(launch, 1);
  auto n = Param<int>(launch, 2);
  auto factor = Param<int>(launch, 3);
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int i = static_cast<int>(GlobalX(launch, bi, ti));
    if (i < n) out[i] = WrapMulAdd(in[i], factor, factor);
  });
  return 0;
}

// Peer memory of another session is not this session's: reading it is a
// fault, as on a GPU without peer access.
RCUDA_TEST_KERNEL("_Z9addRemotePiPKii", add_remote) {
  auto local = Param<int*>(launch, 0);
  auto remote = Param<const int*>(launch, 1);
  auto n = Param<int>(launch, 2);
  if (n > 0 && (!IsDeviceRange(launch, local, n * sizeof(int)) || !IsDeviceRange(launch, remote, n * sizeof(int))))
    return kIllegalAddress;
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int i = static_cast<int>(GlobalX(launch, bi, ti));
    if (i < n) local[i] = WrapMulAdd(local[i], 1, remote[i]);
  });
  return 0;
}
