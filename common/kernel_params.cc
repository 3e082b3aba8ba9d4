#include "common/kernel_params.h"

#include <algorithm>
#include <cstring>

namespace rcuda {

uint32_t ParamBufferSize(std::span<const KernelParamInfo> params) {
  uint32_t size = 0;
  for (const auto& p : params) size = std::max(size, p.offset + p.size);
  return size;
}

Status PackKernelParams(std::span<const KernelParamInfo> params, void* const* args, std::vector<uint8_t>* buffer) {
  buffer->assign(ParamBufferSize(params), 0);
  if (!params.empty() && !args) return Status::InvalidValue("kernel arguments missing");
  for (size_t i = 0; i < params.size(); ++i) {
    if (!args[i]) return Status::InvalidValue("kernel argument " + std::to_string(i) + " is null");
    std::memcpy(buffer->data() + params[i].offset, args[i], params[i].size);
  }
  return Status::Ok();
}

}  // namespace rcuda
