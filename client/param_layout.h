// Checking a kernel's parameter layout as a server describes it, before the
// client packs the program's arguments by it. Packing reads params[i].size
// bytes through the program's args[i] for every parameter the layout lists:
// a layout with more parameters than the kernel has, or larger ones, would
// read past what the program passed (a crash, or the program's memory sent
// to the server). So the layout must fit CUDA's limits and, where the
// client can read the kernel in the program's own fatbinary, match it.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "client/registry.h"
#include "common/fatbin.h"
#include "common/status.h"

namespace rcuda::client {

// The kernel's layout as the program's fatbinary gives it (read once per
// module, whatever the session); nullopt when the client cannot tell (a
// fatbinary it cannot read, a kernel it does not find there).
std::optional<std::vector<KernelParamInfo>> ProgramParamLayout(const Function& function);

// OK when `server` may be used to pack `function`'s arguments: parameters
// in order, not overlapping, within CUDA's 32764 bytes, and the same count
// and sizes as `known` when that is given.
Status CheckParamLayout(const std::string& kernel, std::span<const KernelParamInfo> server,
                        const std::optional<std::vector<KernelParamInfo>>& known);

}  // namespace rcuda::client
