// Host kernels of tests/cuda/device_printf.cu: their printf goes to the fake
// driver's printf FIFO (DevicePrintf), written out at its synchronization
// points as a GPU's is.
#include "host_kernel_util.h"

using namespace rcuda::testk;

RCUDA_TEST_KERNEL("_Z11printValuesPKiii", print_values) {
  auto values = Param<const int*>(launch, 0);
  auto n = Param<int>(launch, 1);
  auto round = Param<int>(launch, 2);
  // Only thread 0 of block 0 prints.
  if (!launch->is_device_range(launch->ctx, values, sizeof(int) * static_cast<size_t>(n > 0 ? n : 0))) {
    return kIllegalAddress;
  }
  for (int i = 0; i < n; ++i) DevicePrintf(launch, "device round %d: values[%d] = %d\n", round, i, values[i]);
  return 0;
}

RCUDA_TEST_KERNEL("_Z10printMixedijfc", print_mixed) {
  auto a = Param<int>(launch, 0);
  auto b = Param<unsigned>(launch, 1);
  auto f = Param<float>(launch, 2);
  auto c = Param<char>(launch, 3);
  // Every thread of the grid prints.
  ForEachThread(launch, [&](rcuda_dim3, rcuda_dim3) {
    DevicePrintf(launch, "device mixed: %d %u %x %.3f %c %s\n", a, b, b, static_cast<double>(f), c, "text");
  });
  return 0;
}

RCUDA_TEST_KERNEL("_Z10printFloodi", print_flood) {
  auto lines = Param<int>(launch, 0);
  for (int i = 0; i < lines; ++i) DevicePrintf(launch, "flood line %06d: 0123456789abcdefghijklmnopqrstuvwxyz01234567\n", i);
  return 0;
}
