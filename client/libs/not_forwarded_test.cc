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
#include <cstring>
#include <unistd.h>
#include <string>

namespace {

int failures = 0;

void Expect(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stdout, "FAILED: %s\n", what);
    ++failures;
  }
}

}  // namespace

int main() {
  // The log goes to stderr: capture it to check it.
  std::FILE* log = std::tmpfile();
  if (log == nullptr) return 2;
  std::fflush(stderr);
  int saved = dup(2);
  dup2(fileno(log), 2);

  cublasHandle_t handle = nullptr;
  // Forwarded: not refused as unsupported; without a session, "lost".
  Expect(cublasCreate_v2(&handle) == CUBLAS_STATUS_EXECUTION_FAILED, "cublasCreate_v2 -> EXECUTION_FAILED (no session)");
  float x = 1.0f;
  Expect(cublasSgemm_v2(handle, CUBLAS_OP_N, CUBLAS_OP_N, 1, 1, 1, &x, &x, 1, &x, 1, &x, &x, 1) ==
             CUBLAS_STATUS_EXECUTION_FAILED,
         "cublasSgemm_v2 -> EXECUTION_FAILED (no session)");
  Expect(cublasSdot_v2(handle, 1, &x, 1, &x, 1, nullptr) == CUBLAS_STATUS_INVALID_VALUE,
         "cublasSdot_v2 with a null host result -> INVALID_VALUE, before any round trip");
  // Described in no forward line: unsupported.
  const float* arrays[1] = {&x};
  float* out[1] = {&x};
  Expect(cublasSgemmBatched(handle, CUBLAS_OP_N, CUBLAS_OP_N, 1, 1, 1, &x, arrays, 1, arrays, 1, &x, out, 1, 1) ==
             CUBLAS_STATUS_NOT_SUPPORTED,
         "cublasSgemmBatched -> NOT_SUPPORTED");
  Expect(cublasSger_v2(handle, 1, 1, &x, &x, 1, &x, 1, &x, 1) == CUBLAS_STATUS_NOT_SUPPORTED,
         "cublasSger_v2 -> NOT_SUPPORTED");
  Expect(cublasSger_v2(handle, 1, 1, &x, &x, 1, &x, 1, &x, 1) == CUBLAS_STATUS_NOT_SUPPORTED,
         "cublasSger_v2 again -> NOT_SUPPORTED");
  Expect(cublasSdot(1, &x, 1, &x, 1) == 0.0f, "legacy cublasSdot -> 0");  // legacy API: float result

  std::fflush(stderr);
  dup2(saved, 2);
  std::string text;
  std::rewind(log);
  char buffer[4096];
  for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, log)) > 0;) text.append(buffer, n);
  auto count = [&](const std::string& needle) {
    int c = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++c;
    return c;
  };
  Expect(count("cublasSger_v2 is not forwarded by rcuda") == 1, "cublasSger_v2 logged exactly once");
  Expect(count("cublasCreate_v2 is not forwarded by rcuda") == 0, "cublasCreate_v2 not logged as unsupported");
  Expect(count("cublasSgemm_v2 is not forwarded by rcuda") == 0, "cublasSgemm_v2 not logged as unsupported");
  Expect(count("cublasSgemm_v2: the session could not carry the call") == 1, "cublasSgemm_v2's lost call logged");
  Expect(count("cublasSgemmBatched is not forwarded by rcuda") == 1, "cublasSgemmBatched logged once");
  Expect(count("cublasSdot is not forwarded by rcuda") == 1, "cublasSdot logged once");
  std::fputs(text.c_str(), stdout);
  std::printf("%s\n", failures == 0 ? "PASSED" : "FAILED");
  return failures == 0 ? 0 : 1;
}
