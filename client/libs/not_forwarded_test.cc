// Linked with NVIDIA's libcublas.so.13 and run with rcuda's first on the
// library path (as rcuda-run runs a program), it checks that
// exports rcuda does not forward (not in client/libs/cublas.def) fail with
// CUBLAS_STATUS_NOT_SUPPORTED (or return their zero, for the legacy API's
// non-status functions) and log their name once, and that the forwarded ones
// no longer do. No device is configured (RCUDA_DEVICE_COUNT=0): a forwarded
// call finds no session and answers the library's "lost" status
// (CUBLAS_STATUS_EXECUTION_FAILED); tests/cuda/cublas_gemm runs them for real.
#include <cublas.h>

#include <cstdio>
#include <string>

#include "not_forwarded_check.h"

int main() {
  // The libraries log to stderr: it is captured to be checked.
  rcuda::libs::NotForwardedCheck check;

  cublasHandle_t handle = nullptr;
  // Forwarded: not refused as unsupported; without a session, "lost".
  check.Expect(cublasCreate_v2(&handle) == CUBLAS_STATUS_EXECUTION_FAILED,
               "cublasCreate_v2 -> EXECUTION_FAILED (no session)");
  float x = 1.0f;
  check.Expect(cublasSgemm_v2(handle, CUBLAS_OP_N, CUBLAS_OP_N, 1, 1, 1, &x, &x, 1, &x, 1, &x, &x, 1) ==
                   CUBLAS_STATUS_EXECUTION_FAILED,
               "cublasSgemm_v2 -> EXECUTION_FAILED (no session)");
  check.Expect(cublasSdot_v2(handle, 1, &x, 1, &x, 1, nullptr) == CUBLAS_STATUS_INVALID_VALUE,
               "cublasSdot_v2 with a null host result -> INVALID_VALUE, before any round trip");
  const float* arrays[1] = {&x};
  float* out[1] = {&x};
  check.Expect(cublasSgemmBatched(handle, CUBLAS_OP_N, CUBLAS_OP_N, 1, 1, 1, &x, arrays, 1, arrays, 1, &x, out, 1, 1) ==
                   CUBLAS_STATUS_EXECUTION_FAILED,
               "cublasSgemmBatched -> EXECUTION_FAILED (no session)");
  // Described in no forward line: unsupported.
  check.Expect(cublasSrotg_v2(handle, &x, &x, &x, &x) ==
                   CUBLAS_STATUS_NOT_SUPPORTED,
               "cublasSrotg_v2 -> NOT_SUPPORTED");
  check.Expect(cublasSrotm_v2(handle, 1, &x, 1, &x, 1, &x) == CUBLAS_STATUS_NOT_SUPPORTED,
               "cublasSrotm_v2 -> NOT_SUPPORTED");
  check.Expect(cublasSrotm_v2(handle, 1, &x, 1, &x, 1, &x) == CUBLAS_STATUS_NOT_SUPPORTED,
               "cublasSrotm_v2 again -> NOT_SUPPORTED");
  check.Expect(cublasSdot(1, &x, 1, &x, 1) == 0.0f, "legacy cublasSdot -> 0");  // legacy API: float result
  // Answered on the client (cublas_local.cc): no session needed for the
  // texts; the helpers' copies find no device and fail as copies.
  check.Expect(std::string(cublasGetStatusName(CUBLAS_STATUS_NOT_SUPPORTED)) == "CUBLAS_STATUS_NOT_SUPPORTED",
               "cublasGetStatusName answered locally");
  check.Expect(cublasSetVector(1, sizeof x, &x, 1, &x, 1) == CUBLAS_STATUS_MAPPING_ERROR,
               "cublasSetVector -> MAPPING_ERROR (no device)");
  check.Expect(cublasSetVector(1, 0, &x, 1, &x, 1) == CUBLAS_STATUS_INVALID_VALUE,
               "cublasSetVector with a zero element size -> INVALID_VALUE");

  check.StopCapture();
  check.Expect(check.Logged("cublasSrotm_v2 is not forwarded by rcuda") == 1, "cublasSrotm_v2 logged exactly once");
  check.Expect(check.Logged("cublasCreate_v2 is not forwarded by rcuda") == 0,
               "cublasCreate_v2 not logged as unsupported");
  check.Expect(check.Logged("cublasSgemm_v2 is not forwarded by rcuda") == 0,
               "cublasSgemm_v2 not logged as unsupported");
  check.Expect(check.Logged("cublasSgemm_v2: the session could not carry the call") == 1,
               "cublasSgemm_v2's lost call logged");
  check.Expect(check.Logged("cublasSrotg_v2 is not forwarded by rcuda") == 1, "cublasSrotg_v2 logged once");
  check.Expect(check.Logged("cublasSgemmBatched is not forwarded by rcuda") == 0,
               "cublasSgemmBatched not logged as unsupported");
  check.Expect(check.Logged("cublasSdot is not forwarded by rcuda") == 1, "cublasSdot logged once");
  check.Expect(check.Logged("cublasSetVector is not forwarded by rcuda") == 0,
               "cublasSetVector not logged as unsupported");
  check.Expect(check.Logged("cublasGetStatusName is not forwarded by rcuda") == 0,
               "cublasGetStatusName not logged as unsupported");
  return check.Finish();
}
