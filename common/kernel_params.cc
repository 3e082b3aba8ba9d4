#include "common/kernel_params.h"

#include <algorithm>
#include <cstring>

namespace rcuda {

uint32_t ParamBufferSize(std::span<const KernelParamInfo> params) {
  uint64_t size = 0;
  for (const auto& p : params) size = std::max<uint64_t>(size, uint64_t(p.offset) + p.size);
  return static_cast<uint32_t>(std::min<uint64_t>(size, UINT32_MAX));
}

Status PackKernelParams(std::span<const KernelParamInfo> params, void* const* args, std::vector<uint8_t>* buffer) {
  // A layout comes from a cubin or a server: one beyond CUDA's limit is
  // damage, and must not size a copy.
  for (const auto& p : params) {
    if (uint64_t(p.offset) + p.size > kMaxKernelParamBytes) {
      return Status::InvalidValue("kernel parameter layout beyond CUDA's 32764-byte limit");
    }
  }
  buffer->assign(ParamBufferSize(params), 0);
  if (!params.empty() && !args) return Status::InvalidValue("kernel arguments missing");
  for (size_t i = 0; i < params.size(); ++i) {
    if (!args[i]) return Status::InvalidValue("kernel argument " + std::to_string(i) + " is null");
    // A layout may hold parameters of no bytes (PTX can declare them), and
    // then the buffer may have no storage at all: nothing to copy.
    if (params[i].size == 0) continue;
    std::memcpy(buffer->data() + params[i].offset, args[i], params[i].size);
  }
  return Status::Ok();
}

}  // namespace rcuda
