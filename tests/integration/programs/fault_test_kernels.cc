// TEST EQUIPMENT: host kernels of fault_probe.cu for rcuda-server's test
// backend (tests/fake_driver/host_kernel_api.h). Loaded with
// --test-kernels librcuda_fault_test_kernels.so.
#include <chrono>
#include <thread>

#include "tests/fake_driver/host_kernel_api.h"

using namespace rcuda::testk;

RCUDA_TEST_KERNEL("fault_vec_add", fault_vec_add) {
  auto a = Param<const float*>(launch, 0);
  auto b = Param<const float*>(launch, 1);
  auto c = Param<float*>(launch, 2);
  auto n = Param<int>(launch, 3);
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int i = static_cast<int>(bi.x * launch->block.x + ti.x);
    if (i < n) c[i] = a[i] + b[i];
  });
  return 0;
}

RCUDA_TEST_KERNEL("fault_sleep", fault_sleep) {
  auto ns = Param<long long>(launch, 0);
  std::this_thread::sleep_for(std::chrono::nanoseconds(ns));
  return 0;
}

// Really writes through the wild pointer it is given, without asking
// is_device_range first: the worker process dies of SIGSEGV, which is what
// the fault test wants (a crashing tenant).
RCUDA_TEST_KERNEL("fault_crash", fault_crash) {
  auto p = Param<int*>(launch, 0);
  *reinterpret_cast<volatile int*>(p) = 1;
  return 0;
}

// hostile_kernels.cu: adds its argument to the module's hostile_global[0].
RCUDA_TEST_KERNEL("hostile_bump", hostile_bump) {
  auto v = Param<int>(launch, 0);
  auto* global = static_cast<int*>(launch->find_symbol(launch->ctx, "hostile_global"));
  if (!global) return 98;  // cudaErrorInvalidDeviceFunction: the module is not there
  global[0] += v;
  return 0;
}

RCUDA_TEST_KERNEL("hostile_print", hostile_print) {
  auto bytes = Param<long long>(launch, 0);
  for (long long i = 0; i + 64 <= bytes; i += 64) {
    DevicePrintf(launch, "%s\n", "ppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp");
  }
  return 0;
}

RCUDA_TEST_KERNELS_PLUGIN()
