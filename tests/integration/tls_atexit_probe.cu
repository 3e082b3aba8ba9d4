// tls_atexit_probe: CUDA calls from an atexit handler that the program
// registered before its first CUDA call, so that it runs after anything the
// client library registered later (OpenSSL's own cleanup would run first if
// the library let OpenSSL register it). Prints "ATEXIT OK" when the copy
// made there succeeds. Through rcuda only (tests/integration/tls_test.cc).
#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

void* device = nullptr;

// Only a call that needs no reply: the client library cannot yet take
// replies in atexit handlers (its thread-local reply buffer is destroyed
// before them, on any transport).
void AtExit() {
  std::vector<char> out(1 << 20, 7);
  cudaError_t e = cudaMemcpy(device, out.data(), out.size(), cudaMemcpyHostToDevice);
  std::printf("ATEXIT %s\n", e == cudaSuccess ? "OK" : cudaGetErrorName(e));
  std::fflush(stdout);
}

}  // namespace

int main() {
  std::atexit(AtExit);
  if (cudaMalloc(&device, 1 << 20) != cudaSuccess) return 1;
  std::printf("MAIN OK\n");
  std::fflush(stdout);
  return 0;
}
