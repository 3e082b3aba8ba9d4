// The cuRAND counterpart of not_forwarded_test.cc. Linked with NVIDIA's
// libcurand.so.10 and run with rcuda's first on the library path (as
// rcuda-run runs a program), it checks that curandCreateGeneratorHost (a
// generator writing the client's host memory, which rcuda's worker cannot)
// and the other exports not in client/libs/curand.def answer
// CURAND_STATUS_NOT_INITIALIZED (cuRAND has no "not supported" status) and
// log their name once, and that the forwarded ones do not. No device is
// configured (RCUDA_DEVICE_COUNT=0): a forwarded call finds no session and
// answers the library's "lost" status (CURAND_STATUS_LAUNCH_FAILURE);
// tests/cuda/curand_moments runs them for real.
#include <curand.h>

#include <cstdio>

#include "not_forwarded_check.h"

int main() {
  // The libraries log to stderr: it is captured to be checked.
  rcuda::libs::NotForwardedCheck check;

  curandGenerator_t g = nullptr;
  // Forwarded: not refused as unsupported; without a session, "lost".
  check.Expect(curandCreateGenerator(&g, CURAND_RNG_PSEUDO_DEFAULT) == CURAND_STATUS_LAUNCH_FAILURE,
               "curandCreateGenerator -> LAUNCH_FAILURE (no session)");
  float x = 0;
  check.Expect(curandGenerateNormal(g, &x, 2, 0.5f, 1.5f) == CURAND_STATUS_LAUNCH_FAILURE,
               "curandGenerateNormal -> LAUNCH_FAILURE (no session)");
  check.Expect(curandGetVersion(nullptr) == CURAND_STATUS_OUT_OF_RANGE,
               "curandGetVersion(nullptr) -> OUT_OF_RANGE, before any round trip");
  // Not forwarded: refused, never a silent success.
  for (int i = 0; i < 2; ++i) {
    g = nullptr;
    check.Expect(curandCreateGeneratorHost(&g, CURAND_RNG_PSEUDO_DEFAULT) == CURAND_STATUS_NOT_INITIALIZED,
                 "curandCreateGeneratorHost -> NOT_INITIALIZED");
    check.Expect(g == nullptr, "curandCreateGeneratorHost left the generator unset");
  }
  curandDiscreteDistribution_t distribution = nullptr;
  check.Expect(curandCreatePoissonDistribution(2.0, &distribution) == CURAND_STATUS_NOT_INITIALIZED,
               "curandCreatePoissonDistribution -> NOT_INITIALIZED");

  check.StopCapture();
  check.Expect(check.Logged("curandCreateGeneratorHost is not forwarded by rcuda") == 1,
               "curandCreateGeneratorHost logged once");
  check.Expect(check.Logged("curandCreatePoissonDistribution is not forwarded by rcuda") == 1,
               "curandCreatePoissonDistribution logged once");
  check.Expect(check.Logged("curandCreateGenerator is not forwarded") == 0,
               "curandCreateGenerator not logged as unsupported");
  check.Expect(check.Logged("curandGenerateNormal: the session could not carry the call") == 1,
               "curandGenerateNormal's lost call logged");
  return check.Finish();
}
