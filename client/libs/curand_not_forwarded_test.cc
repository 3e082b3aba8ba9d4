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

  curandGenerator_t g = nullptr;
  // Forwarded: not refused as unsupported; without a session, "lost".
  Expect(curandCreateGenerator(&g, CURAND_RNG_PSEUDO_DEFAULT) == CURAND_STATUS_LAUNCH_FAILURE,
         "curandCreateGenerator -> LAUNCH_FAILURE (no session)");
  float x = 0;
  Expect(curandGenerateNormal(g, &x, 2, 0.5f, 1.5f) == CURAND_STATUS_LAUNCH_FAILURE,
         "curandGenerateNormal -> LAUNCH_FAILURE (no session)");
  Expect(curandGetVersion(nullptr) == CURAND_STATUS_OUT_OF_RANGE,
         "curandGetVersion(nullptr) -> OUT_OF_RANGE, before any round trip");
  // Not forwarded: refused, never a silent success.
  for (int i = 0; i < 2; ++i) {
    g = nullptr;
    Expect(curandCreateGeneratorHost(&g, CURAND_RNG_PSEUDO_DEFAULT) == CURAND_STATUS_NOT_INITIALIZED,
           "curandCreateGeneratorHost -> NOT_INITIALIZED");
    Expect(g == nullptr, "curandCreateGeneratorHost left the generator unset");
  }
  curandDiscreteDistribution_t distribution = nullptr;
  Expect(curandCreatePoissonDistribution(2.0, &distribution) == CURAND_STATUS_NOT_INITIALIZED,
         "curandCreatePoissonDistribution -> NOT_INITIALIZED");

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
  Expect(count("curandCreateGeneratorHost is not forwarded by rcuda") == 1, "curandCreateGeneratorHost logged once");
  Expect(count("curandCreatePoissonDistribution is not forwarded by rcuda") == 1,
         "curandCreatePoissonDistribution logged once");
  Expect(count("curandCreateGenerator is not forwarded") == 0, "curandCreateGenerator not logged as unsupported");
  Expect(count("curandGenerateNormal: the session could not carry the call") == 1,
         "curandGenerateNormal's lost call logged");
  std::fputs(text.c_str(), stdout);
  std::printf("%s\n", failures == 0 ? "PASSED" : "FAILED");
  return failures == 0 ? 0 : 1;
}
