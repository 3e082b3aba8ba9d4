#include "server/test_backend.h"

#include <stdlib.h>
#include <unistd.h>

#include <climits>
#include <string>

namespace rcuda {
namespace {

// build/bin/rcuda-server -> build/lib/fake-driver/libcuda.so.1
std::string DefaultTestDriver() {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return "";
  std::string path(self, static_cast<size_t>(n));
  return path.substr(0, path.rfind('/')) + "/../lib/fake-driver/libcuda.so.1";
}

}  // namespace

Status ConfigureTestBackend(ExecutorOptions* options) {
  if (options->backend != "test") return Status::Ok();
  std::string driver = options->test_driver.empty() ? DefaultTestDriver() : options->test_driver;
  char resolved[PATH_MAX];
  if (driver.empty() || !realpath(driver.c_str(), resolved) || access(resolved, R_OK) != 0) {
    return Status::InvalidValue("the test backend's fake CUDA driver (TEST EQUIPMENT) is not at '" + driver +
                                "': build the target rcuda_fake_libcuda, or name it with --test-driver");
  }
  std::string plugins;
  for (const auto& plugin : options->test_kernel_plugins) {
    // The fake reads a colon-separated list.
    if (plugin.find(':') != std::string::npos) {
      return Status::InvalidValue("--test-kernels: a path with ':' cannot be passed to the fake driver: " + plugin);
    }
    plugins += (plugins.empty() ? "" : ":") + plugin;
  }
  if (options->test_memory_bytes == 0) return Status::InvalidValue("--test-memory: 0 bytes");
  options->test_driver = resolved;
  options->driver_library = resolved;
  // What tests/fake_driver/README.md documents; the workers inherit it.
  if (setenv(kTestDriverEnv, resolved, 1) != 0 || setenv("RCUDA_FAKE_DRIVER_KERNELS", plugins.c_str(), 1) != 0 ||
      setenv("RCUDA_FAKE_DRIVER_MEMORY", std::to_string(options->test_memory_bytes).c_str(), 1) != 0 ||
      setenv("RCUDA_FAKE_DRIVER_DEVICES", "1", 1) != 0) {
    return Status::IoError("setenv failed");
  }
  return Status::Ok();
}

}  // namespace rcuda
