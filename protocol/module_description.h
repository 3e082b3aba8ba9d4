// A loaded module's kernels and variables, as the executor describes them
// and the client caches them (wire::ModuleLoadReply in between).
#pragma once

#include <cstdint>
#include <vector>

#include "common/fatbin.h"

namespace rcuda {

struct FunctionDescription {
  bool found = false;
  uint64_t handle = 0;
  std::vector<KernelParamInfo> params;
  int32_t max_threads_per_block = 0;
  int32_t shared_size_bytes = 0;
  int32_t const_size_bytes = 0;
  int32_t local_size_bytes = 0;
  int32_t num_regs = 0;
  int32_t ptx_version = 0;
  int32_t binary_version = 0;
  int32_t max_dynamic_shared_size_bytes = 0;
};

struct VariableDescription {
  bool found = false;
  uint64_t address = 0;
  uint64_t size = 0;
};

struct ModuleDescription {
  std::vector<FunctionDescription> functions;
  std::vector<VariableDescription> variables;
};

}  // namespace rcuda
