// The cuSOLVER counterpart of not_forwarded_test.cc. Linked with NVIDIA's
// libcusolver.so.12 and run with rcuda's first on the library path (as
// rcuda-run runs a program), it checks that exports not in
// client/libs/cusolver.def (orgqr, gebrd, the other decompositions) answer
// CUSOLVER_STATUS_NOT_SUPPORTED and log their name once, and that the
// forwarded ones do not. No device is configured (RCUDA_DEVICE_COUNT=0): a
// forwarded call finds no session and answers the library's "lost" status
// (CUSOLVER_STATUS_EXECUTION_FAILED); tests/cuda/cusolver_solve runs them
// for real.
#include <cusolverDn.h>

#include <cstdio>

#include "not_forwarded_check.h"

int main() {
  // The libraries log to stderr: it is captured to be checked.
  rcuda::libs::NotForwardedCheck check;

  cusolverDnHandle_t h = nullptr;
  // Forwarded: not refused as unsupported; without a session, "lost".
  check.Expect(cusolverDnCreate(&h) == CUSOLVER_STATUS_EXECUTION_FAILED,
               "cusolverDnCreate -> EXECUTION_FAILED (no session)");
  int lwork = 0;
  check.Expect(cusolverDnSgetrf_bufferSize(h, 4, 4, nullptr, 4, &lwork) == CUSOLVER_STATUS_EXECUTION_FAILED,
               "cusolverDnSgetrf_bufferSize -> EXECUTION_FAILED (no session)");
  check.Expect(cusolverGetVersion(nullptr) == CUSOLVER_STATUS_INVALID_VALUE,
               "cusolverGetVersion(nullptr) -> INVALID_VALUE, before any round trip");
  // Not forwarded: refused, never a silent success.
  for (int i = 0; i < 2; ++i) {
    lwork = -7;
    check.Expect(cusolverDnSorgqr_bufferSize(h, 4, 4, 4, nullptr, 4, nullptr, &lwork) == CUSOLVER_STATUS_NOT_SUPPORTED,
                 "cusolverDnSorgqr_bufferSize -> NOT_SUPPORTED");
    check.Expect(lwork == -7, "cusolverDnSorgqr_bufferSize left Lwork alone");
  }
  check.Expect(cusolverDnSgebrd_bufferSize(h, 4, 4, &lwork) == CUSOLVER_STATUS_NOT_SUPPORTED,
               "cusolverDnSgebrd_bufferSize -> NOT_SUPPORTED");

  check.StopCapture();
  check.Expect(check.Logged("cusolverDnSorgqr_bufferSize is not forwarded by rcuda") == 1,
               "cusolverDnSorgqr_bufferSize logged once");
  check.Expect(check.Logged("cusolverDnSgebrd_bufferSize is not forwarded by rcuda") == 1,
               "cusolverDnSgebrd_bufferSize logged once");
  check.Expect(check.Logged("cusolverDnCreate is not forwarded") == 0, "cusolverDnCreate not logged as unsupported");
  check.Expect(check.Logged("cusolverDnSgetrf_bufferSize: the session could not carry the call") == 1,
               "cusolverDnSgetrf_bufferSize's lost call logged");
  return check.Finish();
}
