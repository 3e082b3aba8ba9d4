#include "tests/fake_driver/host_kernels.h"

#include <dlfcn.h>

#include <sstream>
#include <unordered_map>

namespace fake {
namespace {

// Written only while cuInit loads the plugins (under the driver's lock), read
// afterwards; kept apart from the driver's state so that lookups from
// launches need no lock.
std::unordered_map<std::string, rcuda_test_kernel_fn>& Registry() {
  static auto* registry = new std::unordered_map<std::string, rcuda_test_kernel_fn>;
  return *registry;
}

extern "C" void RegisterHostKernel(const char* name, rcuda_test_kernel_fn fn) { Registry()[name] = fn; }

}  // namespace

bool LoadHostKernelPlugins(const std::string& paths, std::string* error) {
  std::stringstream list(paths);
  std::string path;
  while (std::getline(list, path, ':')) {
    if (path.empty()) continue;
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      *error = "cannot load host kernel plugin " + path + ": " + dlerror();
      return false;
    }
    auto init = reinterpret_cast<rcuda_test_kernels_init_fn>(dlsym(handle, "rcuda_test_kernels_init"));
    if (!init) {
      *error = "host kernel plugin " + path + " lacks rcuda_test_kernels_init";
      return false;
    }
    init(&RegisterHostKernel);
  }
  return true;
}

rcuda_test_kernel_fn FindHostKernel(const std::string& mangled_name) {
  auto it = Registry().find(mangled_name);
  return it == Registry().end() ? nullptr : it->second;
}

size_t HostKernelCount() { return Registry().size(); }

}  // namespace fake
