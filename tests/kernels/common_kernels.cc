// Host kernels of tests/cuda/common_kernels.cuh (kernels several programs
// share).
#include <chrono>
#include <thread>

#include "host_kernel_util.h"

using namespace rcuda::testk;

// All threads spin concurrently on a GPU, so the launch takes spinNs once.
RCUDA_TEST_KERNEL("_Z12spinThenFillPiiix", spin_then_fill) {
  auto out = Param<int*>(launch, 0);
  auto n = Param<int>(launch, 1);
  auto value = Param<int>(launch, 2);
  auto spin_ns = Param<long long>(launch, 3);
  SleepNs(spin_ns);
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int i = static_cast<int>(GlobalX(launch, bi, ti));
    if (i < n) out[i] = value + i;
  });
  return 0;
}

RCUDA_TEST_KERNEL("_Z7addFromPKiPiii", add_from) {
  auto src = Param<const int*>(launch, 0);
  auto dst = Param<int*>(launch, 1);
  auto n = Param<int>(launch, 2);
  auto add = Param<int>(launch, 3);
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int i = static_cast<int>(GlobalX(launch, bi, ti));
    if (i < n) dst[i] = src[i] + add;
  });
  return 0;
}

// Polls in real time, as the GPU kernel does: it sees the flag only if the
// backend runs the setter while this kernel waits.
RCUDA_TEST_KERNEL("_Z11waitForFlagPViiPix", wait_for_flag) {
  auto flag = Param<int*>(launch, 0);
  auto expect = Param<int>(launch, 1);
  auto result = Param<int*>(launch, 2);
  auto timeout_ns = Param<long long>(launch, 3);
  if (!IsDeviceRange(launch, flag, sizeof(int)) || !IsDeviceRange(launch, result, 2 * sizeof(int)))
    return kIllegalAddress;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::nanoseconds(timeout_ns);
  int seen = 0, value = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    value = __atomic_load_n(flag, __ATOMIC_ACQUIRE);
    if (value == expect) {
      seen = 1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  result[0] = seen;
  result[1] = value;
  return 0;
}

RCUDA_TEST_KERNEL("_Z7setFlagPVii", set_flag) {
  auto flag = Param<int*>(launch, 0);
  auto value = Param<int>(launch, 1);
  if (!IsDeviceRange(launch, flag, sizeof(int))) return kIllegalAddress;
  __atomic_store_n(flag, value, __ATOMIC_RELEASE);
  return 0;
}
