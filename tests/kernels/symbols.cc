// Host kernels of tests/cuda/symbols.cu. Module variables are found by name
// with find_symbol, as the GPU kernel finds them by address.
#include "symbols.h"

#include <cmath>

#include "host_kernel_util.h"

using namespace rcuda::testk;

RCUDA_TEST_KERNEL("_Z11applyCoeffsPKfPfi", apply_coeffs) {
  auto in = Param<const float*>(launch, 0);
  auto out = Param<float*>(launch, 1);
  auto n = Param<int>(launch, 2);
  auto* coeffs = Symbol<const float>(launch, "cCoeffs");
  auto* params = Symbol<const LinearParams>(launch, "cParams");
  auto* counter = Symbol<int>(launch, "devCounter");
  if (!coeffs || !params || !counter) return kInvalidSymbol;
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int i = static_cast<int>(GlobalX(launch, bi, ti));
    if (i < n) {
      float v = std::fma(in[i], coeffs[(i * params->stride) % kCoeffs], params->bias);
      out[i] = v;
      if (v > 0.0f) ++*counter;
    }
  });
  return 0;
}

RCUDA_TEST_KERNEL("_Z9fillTablev", fill_table) {
  auto* table = Symbol<float>(launch, "devTable");
  auto* scale = Symbol<const double>(launch, "devScale");
  auto* c_init = Symbol<const int>(launch, "cInit");
  auto* dev_init = Symbol<const int>(launch, "devInit");
  if (!table || !scale || !c_init || !dev_init) return kInvalidSymbol;
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int i = static_cast<int>(GlobalX(launch, bi, ti));
    if (i < kTable)
      table[i] = static_cast<float>(static_cast<double>(i) * *scale + static_cast<double>(c_init[i % 4] + dev_init[i % 8]));
  });
  return 0;
}

RCUDA_TEST_KERNEL("_Z19scaleThroughPointerPfif", scale_through_pointer) {
  auto table = Param<float*>(launch, 0);
  auto n = Param<int>(launch, 1);
  auto factor = Param<float>(launch, 2);
  if (!IsDeviceRange(launch, table, static_cast<size_t>(n) * sizeof(float))) return kIllegalAddress;
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int i = static_cast<int>(GlobalX(launch, bi, ti));
    if (i < n) table[i] = table[i] * factor;
  });
  return 0;
}
