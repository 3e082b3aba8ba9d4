// The cuFFT counterpart of not_forwarded_test.cc. Linked with NVIDIA's
// libcufft.so.12 and run with rcuda's first on the library path (as
// rcuda-run runs a program), it checks that the exports not in
// client/libs/cufft.def (the cufftXt API)
// answer CUFFT_NOT_SUPPORTED and log their name once, and that the
// forwarded ones do not. No device is configured (RCUDA_DEVICE_COUNT=0): a
// forwarded call finds no session and answers the library's "lost" status
// (CUFFT_EXEC_FAILED); tests/cuda/cufft_transforms runs them for real.
#include <cufft.h>
#include <cufftXt.h>

#include <cstdio>

#include "not_forwarded_check.h"

int main() {
  // The libraries log to stderr: it is captured to be checked.
  rcuda::libs::NotForwardedCheck check;

  cufftHandle plan = -1;
  // Forwarded: not refused as unsupported; without a session, "lost".
  check.Expect(cufftPlan1d(&plan, 64, CUFFT_C2C, 1) == CUFFT_EXEC_FAILED, "cufftPlan1d -> EXEC_FAILED (no session)");
  check.Expect(plan == -1, "a failed cufftPlan1d left the plan unset");
  check.Expect(cufftExecC2C(1, nullptr, nullptr, CUFFT_FORWARD) == CUFFT_EXEC_FAILED,
               "cufftExecC2C -> EXEC_FAILED (no session)");
  check.Expect(cufftGetVersion(nullptr) == CUFFT_INVALID_VALUE,
               "cufftGetVersion(nullptr) -> INVALID_VALUE, no round trip");
  size_t work = 0;
  check.Expect(cufftGetSize(1, nullptr) == CUFFT_INVALID_VALUE,
               "cufftGetSize(nullptr) -> INVALID_VALUE, no round trip");
  // Not forwarded: refused, never a silent success.
  int gpus[2] = {0, 1};
  for (int i = 0; i < 2; ++i) {
    check.Expect(cufftXtSetGPUs(1, 2, gpus) == CUFFT_NOT_SUPPORTED, "cufftXtSetGPUs -> NOT_SUPPORTED");
  }
  // Forwarded since (64-bit plans, plan properties): without a session, "lost".
  long long n[1] = {64};
  check.Expect(cufftMakePlanMany64(1, 1, n, nullptr, 1, 64, nullptr, 1, 64, CUFFT_C2C, 4, &work) == CUFFT_EXEC_FAILED,
               "cufftMakePlanMany64 -> EXEC_FAILED (no session)");
  int n32[1] = {64};
  check.Expect(cufftPlanMany(&plan, 1, n32, nullptr, 1, 64, nullptr, 1, 64, CUFFT_C2C, 4) == CUFFT_EXEC_FAILED,
               "cufftPlanMany -> EXEC_FAILED (no session)");
  check.Expect(plan == -1, "a failed cufftPlanMany left the plan unset");
  int major = -1;
  check.Expect(cufftGetProperty(MAJOR_VERSION, &major) == CUFFT_EXEC_FAILED,
               "cufftGetProperty -> EXEC_FAILED (no session)");
  long long jit = -1;
  check.Expect(cufftGetPlanPropertyInt64(plan, NVFFT_PLAN_PROPERTY_INT64_PATIENT_JIT, &jit) == CUFFT_EXEC_FAILED,
               "cufftGetPlanPropertyInt64 -> EXEC_FAILED (no session)");
  check.Expect(cufftGetPlanPropertyInt64(plan, NVFFT_PLAN_PROPERTY_INT64_PATIENT_JIT, nullptr) == CUFFT_INVALID_VALUE,
               "cufftGetPlanPropertyInt64(nullptr) -> INVALID_VALUE, no round trip");
  check.Expect(cufftEstimate1d(64, CUFFT_C2C, 1, &work) == CUFFT_EXEC_FAILED, "cufftEstimate1d -> EXEC_FAILED (no session)");

  check.StopCapture();
  check.Expect(check.Logged("cufftXtSetGPUs is not forwarded by rcuda") == 1, "cufftXtSetGPUs logged once");
  check.Expect(check.Logged("cufftMakePlanMany64 is not forwarded") == 0, "cufftMakePlanMany64 not logged as unsupported");
  check.Expect(check.Logged("cufftPlanMany is not forwarded") == 0, "cufftPlanMany not logged as unsupported");
  check.Expect(check.Logged("cufftGetPlanPropertyInt64 is not forwarded") == 0,
               "cufftGetPlanPropertyInt64 not logged as unsupported");
  check.Expect(check.Logged("cufftGetProperty is not forwarded") == 0, "cufftGetProperty not logged as unsupported");
  check.Expect(check.Logged("cufftEstimate1d is not forwarded") == 0, "cufftEstimate1d not logged as unsupported");
  check.Expect(check.Logged("cufftPlan1d is not forwarded") == 0, "cufftPlan1d not logged as unsupported");
  check.Expect(check.Logged("cufftExecC2C: the session could not carry the call") == 1,
               "cufftExecC2C's lost call logged");
  return check.Finish();
}
