// The cuSPARSE counterpart of not_forwarded_test.cc. Linked with NVIDIA's
// libcusparse.so.12 and run with rcuda's first on the library path (as
// rcuda-run runs a program), it checks that exports not in
// client/libs/cusparse.def (SpGEMM, the legacy matrix descriptors) answer
// CUSPARSE_STATUS_NOT_SUPPORTED (an enum getter its zero) and log their name
// once, and that the forwarded ones do not. No device is configured
// (RCUDA_DEVICE_COUNT=0): a forwarded call finds no session and answers the
// library's "lost" status (CUSPARSE_STATUS_EXECUTION_FAILED);
// tests/cuda/cusparse_spmv runs them for real.
#include <cusparse.h>

#include <cstdio>
#include <string>

#include "not_forwarded_check.h"

int main() {
  // The libraries log to stderr: it is captured to be checked.
  rcuda::libs::NotForwardedCheck check;

  cusparseHandle_t h = nullptr;
  // Forwarded: not refused as unsupported; without a session, "lost".
  check.Expect(cusparseCreate(&h) == CUSPARSE_STATUS_EXECUTION_FAILED,
               "cusparseCreate -> EXECUTION_FAILED (no session)");
  cusparseDnVecDescr_t v = nullptr;
  check.Expect(cusparseCreateDnVec(&v, 4, nullptr, CUDA_R_32F) == CUSPARSE_STATUS_EXECUTION_FAILED,
               "cusparseCreateDnVec -> EXECUTION_FAILED (no session)");
  check.Expect(cusparseGetProperty(MAJOR_VERSION, nullptr) == CUSPARSE_STATUS_INVALID_VALUE,
               "cusparseGetProperty(nullptr) -> INVALID_VALUE, before any round trip");
  // Answered on the client (cusparse_local.cc), with the real library's texts.
  check.Expect(std::string(cusparseGetErrorName(CUSPARSE_STATUS_ZERO_PIVOT)) == "CUSPARSE_STATUS_ZERO_PIVOT",
               "cusparseGetErrorName answered locally");
  check.Expect(std::string(cusparseGetErrorString(CUSPARSE_STATUS_ALLOC_FAILED)) == "out of memory",
               "cusparseGetErrorString answered locally");
  check.Expect(std::string(cusparseGetErrorString(static_cast<cusparseStatus_t>(99))) == "unrecognized error code",
               "cusparseGetErrorString of an unknown status");
  // Not forwarded: refused, never a silent success.
  for (int i = 0; i < 2; ++i) {
    size_t bytes = 7;
    check.Expect(cusparseSpGEMM_workEstimation(h, CUSPARSE_OPERATION_NON_TRANSPOSE, CUSPARSE_OPERATION_NON_TRANSPOSE,
                                               nullptr, nullptr, nullptr, nullptr, nullptr, CUDA_R_32F,
                                               CUSPARSE_SPGEMM_DEFAULT, nullptr, &bytes,
                                               nullptr) == CUSPARSE_STATUS_NOT_SUPPORTED,
                 "cusparseSpGEMM_workEstimation -> NOT_SUPPORTED");
    check.Expect(bytes == 7, "cusparseSpGEMM_workEstimation left bufferSize1 alone");
  }
  cusparseMatDescr_t legacy = nullptr;
  check.Expect(cusparseCreateMatDescr(&legacy) == CUSPARSE_STATUS_NOT_SUPPORTED,
               "cusparseCreateMatDescr -> NOT_SUPPORTED");
  check.Expect(cusparseGetMatIndexBase(legacy) == CUSPARSE_INDEX_BASE_ZERO, "cusparseGetMatIndexBase -> its zero");

  check.StopCapture();
  check.Expect(check.Logged("cusparseSpGEMM_workEstimation is not forwarded by rcuda") == 1,
               "cusparseSpGEMM_workEstimation logged once");
  check.Expect(check.Logged("cusparseCreateMatDescr is not forwarded by rcuda") == 1,
               "cusparseCreateMatDescr logged once");
  check.Expect(check.Logged("cusparseGetMatIndexBase is not forwarded by rcuda") == 1,
               "cusparseGetMatIndexBase logged once");
  check.Expect(check.Logged("cusparseCreate is not forwarded") == 0, "cusparseCreate not logged as unsupported");
  check.Expect(check.Logged("cusparseGetErrorString is not forwarded") == 0,
               "cusparseGetErrorString not logged as unsupported");
  check.Expect(check.Logged("cusparseCreateDnVec: the session could not carry the call") == 1,
               "cusparseCreateDnVec's lost call logged");
  return check.Finish();
}
