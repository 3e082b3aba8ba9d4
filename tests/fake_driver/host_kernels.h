// TEST EQUIPMENT: the fake CUDA driver runs kernels as host functions that
// plugins register by mangled name (the ABI: host_kernel_api.h). The plugins
// are named, colon-separated, in RCUDA_FAKE_DRIVER_KERNELS (rcuda-server
// --backend test sets it from its --test-kernels) and loaded by cuInit.
#pragma once

#include <cstddef>
#include <string>

#include "tests/fake_driver/host_kernel_api.h"

namespace fake {

// Loads every plugin of the colon-separated list; false with `error` set if
// one cannot be loaded.
bool LoadHostKernelPlugins(const std::string& paths, std::string* error);

// The host kernel registered under `mangled_name`, or nullptr.
rcuda_test_kernel_fn FindHostKernel(const std::string& mangled_name);

size_t HostKernelCount();

}  // namespace fake
