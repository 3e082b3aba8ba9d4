// What the fatbinary, cubin and PTX fuzz targets do with a module they
// parsed: what rcuda does with it (the test backend lays out parameters and
// variables, the client packs arguments), with the parsers' promises checked.
#pragma once

#include <array>
#include <vector>

#include "common/fatbin.h"
#include "common/kernel_params.h"
#include "fuzz_check.h"

namespace rcuda::fuzz {

inline void UseModule(const ModuleImage& image) {
  // Arguments as a program passes them: one pointer per parameter, each to
  // as many bytes as the layout says the parameter has (at most CUDA's limit).
  static std::array<uint8_t, kMaxKernelParamBytes> argument_bytes{};
  for (const CubinKernel& kernel : image.kernels) {
    Use(kernel.name.size());
    Use(kernel.static_shared_bytes);
    Use(kernel.registers);
    Use(kernel.max_threads);
    // Both parsers promise layouts inside CUDA's limit: the client sizes
    // its copies by them.
    for (const KernelParamInfo& p : kernel.params) {
      FUZZ_CHECK(uint64_t(p.offset) + p.size <= kMaxKernelParamBytes, "a parsed layout beyond CUDA's parameter limit");
    }
    std::vector<void*> args(kernel.params.size(), argument_bytes.data());
    std::vector<uint8_t> buffer;
    Status s = PackKernelParams(kernel.params, args.data(), &buffer);
    if (s.ok()) {
      FUZZ_CHECK(buffer.size() == ParamBufferSize(kernel.params), "packed buffer of the wrong size");
      FUZZ_CHECK(buffer.size() <= kMaxKernelParamBytes, "packed buffer beyond CUDA's limit");
    }
    FUZZ_CHECK(image.FindKernel(kernel.name) != nullptr, "a parsed kernel cannot be found by name");
  }
  for (const CubinVariable& var : image.variables) {
    Use(var.size);
    Use(var.constant);
    // The test backend copies the initial bytes into the variable.
    FUZZ_CHECK(var.init.size() <= var.size, "a variable's initial bytes outgrow it");
    FUZZ_CHECK(image.FindVariable(var.name) != nullptr, "a parsed variable cannot be found by name");
  }
}

}  // namespace rcuda::fuzz
