// Host kernels of tests/cuda/symbols_async.cu.
#include "host_kernel_util.h"

using namespace rcuda::testk;

RCUDA_TEST_KERNEL("_Z14scaleAndRecordPKfPfi", scale_and_record) {
  auto in = Param<const float*>(launch, 0);
  auto out = Param<float*>(launch, 1);
  auto n = Param<int>(launch, 2);
  auto* scale = Symbol<const float>(launch, "cScale");
  auto* result = Symbol<int>(launch, "dResult");
  auto* count = Symbol<unsigned long long>(launch, "dCount");
  if (!scale || !result || !count) return kInvalidSymbol;
  constexpr int kScales = 16, kResults = 1024;
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int i = static_cast<int>(GlobalX(launch, bi, ti));
    if (i < n) {
      out[i] = in[i] * scale[i % kScales];
      if (i < kResults) result[i] = static_cast<int>(out[i]);
      ++*count;
    }
  });
  return 0;
}
