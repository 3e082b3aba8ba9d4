// Host kernels of tests/cuda/separable_compilation*.cu (two units, -rdc=true).
// sepApply inlines what the other unit's sepAxpb does on the GPU; the
// variables are found by name in the device-linked module.
#include "separable_compilation.h"

#include "host_kernel_util.h"

using namespace rcuda::testk;

RCUDA_TEST_KERNEL("_Z8sepApplyPKfPffi", sep_apply) {
  auto x = Param<const float*>(launch, 0);
  auto y = Param<float*>(launch, 1);
  auto a = Param<float>(launch, 2);
  auto n = Param<int>(launch, 3);
  auto* offset = Symbol<const float>(launch, "sepOffset");
  auto* calls = Symbol<int>(launch, "sepCalls");
  if (!offset || !calls) return kInvalidSymbol;
  if (n > 0 && (!IsDeviceRange(launch, x, static_cast<size_t>(n) * sizeof(float)) ||
                !IsDeviceRange(launch, y, static_cast<size_t>(n) * sizeof(float))))
    return kIllegalAddress;
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int i = static_cast<int>(GlobalX(launch, bi, ti));
    if (i < n) {
      ++*calls;
      float prod = a * x[i];
      y[i] = prod + *offset;
    }
  });
  return 0;
}

RCUDA_TEST_KERNEL("_Z9sepNegatePfi", sep_negate) {
  auto y = Param<float*>(launch, 0);
  auto n = Param<int>(launch, 1);
  if (n > 0 && !IsDeviceRange(launch, y, static_cast<size_t>(n) * sizeof(float))) return kIllegalAddress;
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int i = static_cast<int>(GlobalX(launch, bi, ti));
    if (i < n) y[i] = -y[i];
  });
  return 0;
}
