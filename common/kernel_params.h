// Packing a kernel's arguments into its parameter buffer: the layout the
// driver expects (CU_LAUNCH_PARAM_BUFFER_POINTER), at the offsets and sizes
// the driver or the cubin reported for the kernel.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/fatbin.h"
#include "common/status.h"

namespace rcuda {

// Size of the parameter buffer for `params`.
uint32_t ParamBufferSize(std::span<const KernelParamInfo> params);

// Copies *args[i] (params[i].size bytes) to params[i].offset of `buffer`,
// which is resized to ParamBufferSize(params); padding bytes are zero.
Status PackKernelParams(std::span<const KernelParamInfo> params, void* const* args, std::vector<uint8_t>* buffer);

}  // namespace rcuda
