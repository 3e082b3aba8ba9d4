#include "client/param_layout.h"

#include <cstdint>
#include <mutex>
#include <unordered_map>

#include "client/log.h"

namespace rcuda::client {
namespace {

// A module's kernels' layouts, by mangled name, read from its fatbinary.
struct ModuleLayouts {
  std::once_flag once;
  bool readable = false;
  std::unordered_map<std::string, std::vector<KernelParamInfo>> kernels;
};

ModuleLayouts& LayoutsOf(const Module& module) {
  static std::mutex mu;
  static auto* all = new std::unordered_map<const Module*, std::unique_ptr<ModuleLayouts>>;
  std::lock_guard lock(mu);
  auto& entry = (*all)[&module];
  if (!entry) entry = std::make_unique<ModuleLayouts>();
  return *entry;
}

}  // namespace

std::optional<std::vector<KernelParamInfo>> ProgramParamLayout(const Function& function) {
  ModuleLayouts& layouts = LayoutsOf(*function.module);
  std::call_once(layouts.once, [&] {
    ModuleImage image;
    // Any entry will do: a kernel's parameters are the same on every
    // architecture. UINT32_MAX picks the newest cubin, else PTX.
    Status s = function.module->image.empty()
                   ? Status::InvalidValue("no fatbinary")
                   : LoadModuleImage(function.module->image, UINT32_MAX, &image);
    if (!s.ok()) {
      Log(LogLevel::kDebug, "cannot read the kernels' parameter layouts in module " +
                                std::to_string(function.module->index) + ": " + s.message());
      return;
    }
    layouts.readable = true;
    for (auto& k : image.kernels) layouts.kernels.emplace(k.name, std::move(k.params));
  });
  if (!layouts.readable) return std::nullopt;
  auto it = layouts.kernels.find(function.device_name);
  if (it == layouts.kernels.end()) return std::nullopt;
  return it->second;
}

Status CheckParamLayout(const std::string& kernel, std::span<const KernelParamInfo> server,
                        const std::optional<std::vector<KernelParamInfo>>& known) {
  uint64_t end = 0;
  for (size_t i = 0; i < server.size(); ++i) {
    const KernelParamInfo& p = server[i];
    if (uint64_t(p.offset) + p.size > kMaxKernelParamBytes || p.offset < end) {
      return Status::Corruption("parameter " + std::to_string(i) + " of kernel " + kernel + " at offset " +
                                std::to_string(p.offset) + ", " + std::to_string(p.size) +
                                " bytes, is out of order or beyond CUDA's 32764-byte limit");
    }
    end = uint64_t(p.offset) + p.size;
  }
  if (!known) return Status::Ok();
  if (known->size() != server.size()) {
    return Status::Corruption("kernel " + kernel + " has " + std::to_string(known->size()) +
                              " parameters in the program, but the server described " +
                              std::to_string(server.size()));
  }
  for (size_t i = 0; i < server.size(); ++i) {
    if ((*known)[i].size != server[i].size) {
      return Status::Corruption("parameter " + std::to_string(i) + " of kernel " + kernel + " is " +
                                std::to_string((*known)[i].size) + " bytes in the program, but the server said " +
                                std::to_string(server[i].size));
    }
  }
  return Status::Ok();
}

}  // namespace rcuda::client
