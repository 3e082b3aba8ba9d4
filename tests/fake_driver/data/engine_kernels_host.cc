// TEST EQUIPMENT: host implementations of data/engine_kernels.cu for the
// fake driver's own tests, through rcuda's host kernel ABI
// (host_kernel_api.h). noHost deliberately has none.
#include "tests/fake_driver/host_kernel_api.h"

namespace {

using rcuda::testk::ForEachThread;
using rcuda::testk::Param;

unsigned GlobalIndex(const rcuda_test_launch* launch, rcuda_dim3 b, rcuda_dim3 t) {
  return b.x * launch->block.x + t.x;
}

}  // namespace

RCUDA_TEST_KERNEL("_Z4fillPiii", fill) {
  auto p = Param<int*>(launch, 0);
  auto n = Param<int>(launch, 1);
  auto value = Param<int>(launch, 2);
  ForEachThread(launch, [&](rcuda_dim3 b, rcuda_dim3 t) {
    unsigned i = GlobalIndex(launch, b, t);
    if (i < static_cast<unsigned>(n)) p[i] = value;
  });
  return 0;
}

RCUDA_TEST_KERNEL("_Z6addOnePii", add_one) {
  auto p = Param<int*>(launch, 0);
  auto n = Param<int>(launch, 1);
  ForEachThread(launch, [&](rcuda_dim3 b, rcuda_dim3 t) {
    unsigned i = GlobalIndex(launch, b, t);
    if (i < static_cast<unsigned>(n)) p[i] += 1;
  });
  return 0;
}

RCUDA_TEST_KERNEL("_Z11bumpCounteri", bump_counter) {
  auto by = Param<int>(launch, 0);
  auto* counter = static_cast<int*>(launch->find_symbol(launch->ctx, "counter"));
  if (!counter) return 1;  // the module variable must be there
  *counter += by;
  return 0;
}

RCUDA_TEST_KERNEL("_Z9wildWritePi", wild_write) {
  auto p = Param<int*>(launch, 0);
  // A GPU faults on a wild pointer; the host kernel reports the fault.
  if (!launch->is_device_range(launch->ctx, p, sizeof(int))) return 700;  // cudaErrorIllegalAddress
  *p = 1;
  return 0;
}

RCUDA_TEST_KERNEL("_Z7boundedPi", bounded) {
  auto p = Param<int*>(launch, 0);
  ForEachThread(launch, [&](rcuda_dim3, rcuda_dim3 t) { p[t.x] = static_cast<int>(t.x); });
  return 0;
}

RCUDA_TEST_KERNELS_PLUGIN()
