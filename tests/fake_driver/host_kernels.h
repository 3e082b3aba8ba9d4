// TEST EQUIPMENT: the fake CUDA driver runs kernels as host functions that
// plugins register by mangled name, through the same ABI as rcuda-server's
// test backend (server/test_kernel_api.h), so both reuse
// librcuda_test_kernels.so. The plugins are named, colon-separated, in
// RCUDA_FAKE_DRIVER_KERNELS and loaded by cuInit.
#pragma once

#include <cstddef>
#include <string>

#include "server/test_kernel_api.h"

namespace fake {

// Loads every plugin of the colon-separated list; false with `error` set if
// one cannot be loaded.
bool LoadHostKernelPlugins(const std::string& paths, std::string* error);

// The host kernel registered under `mangled_name`, or nullptr.
rcuda_test_kernel_fn FindHostKernel(const std::string& mangled_name);

size_t HostKernelCount();

}  // namespace fake
