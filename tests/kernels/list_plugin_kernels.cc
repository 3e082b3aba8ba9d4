// list-plugin-kernels PLUGIN.so: prints the mangled names a test-kernel
// plugin registers, one per line, as the fake CUDA driver (rcuda-server's test backend) would see
// them. Used by the coverage test (check_kernel_coverage.sh).
#include <dlfcn.h>

#include <cstdio>

#include "tests/fake_driver/host_kernel_api.h"

namespace {
int registered = 0;
void Print(const char* name, rcuda_test_kernel_fn fn) {
  if (fn) ++registered;
  std::printf("%s\n", name);
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s plugin.so\n", argv[0]);
    return 2;
  }
  void* handle = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    std::fprintf(stderr, "dlopen %s: %s\n", argv[1], dlerror());
    return 1;
  }
  auto init = reinterpret_cast<rcuda_test_kernels_init_fn>(dlsym(handle, "rcuda_test_kernels_init"));
  if (!init) {
    std::fprintf(stderr, "%s does not export rcuda_test_kernels_init\n", argv[1]);
    return 1;
  }
  init(Print);
  return registered > 0 ? 0 : 1;
}
