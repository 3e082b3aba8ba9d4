// The cuFFT counterpart of not_forwarded_test.cc. Linked with NVIDIA's
// libcufft.so.12 and run with rcuda's first on the library path (as
// rcuda-run runs a program), it checks that the exports not in
// client/libs/cufft.def (cufftPlanMany, cufftEstimate1d, the cufftXt API)
// answer CUFFT_NOT_SUPPORTED and log their name once, and that the
// forwarded ones do not. No device is configured (RCUDA_DEVICE_COUNT=0): a
// forwarded call finds no session and answers the library's "lost" status
// (CUFFT_EXEC_FAILED); tests/cuda/cufft_transforms runs them for real.
#include <cufft.h>
#include <unistd.h>

#include <cstdio>
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

  cufftHandle plan = -1;
  // Forwarded: not refused as unsupported; without a session, "lost".
  Expect(cufftPlan1d(&plan, 64, CUFFT_C2C, 1) == CUFFT_EXEC_FAILED, "cufftPlan1d -> EXEC_FAILED (no session)");
  Expect(plan == -1, "a failed cufftPlan1d left the plan unset");
  Expect(cufftExecC2C(1, nullptr, nullptr, CUFFT_FORWARD) == CUFFT_EXEC_FAILED,
         "cufftExecC2C -> EXEC_FAILED (no session)");
  Expect(cufftGetVersion(nullptr) == CUFFT_INVALID_VALUE, "cufftGetVersion(nullptr) -> INVALID_VALUE, no round trip");
  size_t work = 0;
  Expect(cufftGetSize(1, nullptr) == CUFFT_INVALID_VALUE, "cufftGetSize(nullptr) -> INVALID_VALUE, no round trip");
  // Not forwarded: refused, never a silent success.
  int n[1] = {64};
  for (int i = 0; i < 2; ++i) {
    plan = -1;
    Expect(cufftPlanMany(&plan, 1, n, nullptr, 1, 64, nullptr, 1, 64, CUFFT_C2C, 4) == CUFFT_NOT_SUPPORTED,
           "cufftPlanMany -> NOT_SUPPORTED");
    Expect(plan == -1, "cufftPlanMany left the plan unset");
  }
  Expect(cufftEstimate1d(64, CUFFT_C2C, 1, &work) == CUFFT_NOT_SUPPORTED, "cufftEstimate1d -> NOT_SUPPORTED");

  std::fflush(stderr);
  dup2(saved, 2);
  std::string text;
  std::rewind(log);
  char buffer[4096];
  for (size_t got; (got = std::fread(buffer, 1, sizeof buffer, log)) > 0;) text.append(buffer, got);
  auto count = [&](const std::string& needle) {
    int c = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++c;
    return c;
  };
  Expect(count("cufftPlanMany is not forwarded by rcuda") == 1, "cufftPlanMany logged once");
  Expect(count("cufftEstimate1d is not forwarded by rcuda") == 1, "cufftEstimate1d logged once");
  Expect(count("cufftPlan1d is not forwarded") == 0, "cufftPlan1d not logged as unsupported");
  Expect(count("cufftExecC2C: the session could not carry the call") == 1, "cufftExecC2C's lost call logged");
  std::fputs(text.c_str(), stdout);
  std::printf("%s\n", failures == 0 ? "PASSED" : "FAILED");
  return failures == 0 ? 0 : 1;
}
