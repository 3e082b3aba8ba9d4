#include "client/module_cache.h"

#include <cuda_runtime_api.h>

#include "client/errors.h"
#include "client/log.h"
#include "client/param_layout.h"
#include "protocol/wire_convert.h"

namespace rcuda::client {

Status ModuleCache::Get(RpcChannel& channel, AllocationTable& memory, const Module& module, LoadedModule** out) {
  channel.WaitLocked([&] { return !(module.index < loading_.size() && loading_[module.index]); });
  if (module.index < modules_.size() && modules_[module.index]) {
    *out = modules_[module.index].get();
    return (*out)->status;
  }
  if (modules_.size() <= module.index) modules_.resize(module.index + 1);
  if (loading_.size() <= module.index) loading_.resize(module.index + 1, false);
  loading_[module.index] = true;
  struct Done {
    ModuleCache* cache;
    RpcChannel* channel;
    size_t i;
    ~Done() {
      cache->loading_[i] = false;
      channel->reply_cv_.notify_all();
    }
  } done{this, &channel, module.index};
  auto loaded = std::make_unique<LoadedModule>();
  if (module.image.empty()) {
    loaded->status = Status(cudaErrorInvalidKernelImage, "the program registered a fatbinary rcuda cannot read");
  } else {
    flatbuffers::FlatBufferBuilder& b = channel.builder_;
    std::vector<flatbuffers::Offset<flatbuffers::String>> fns, vars;
    for (const auto* f : module.functions) fns.push_back(b.CreateString(f->device_name));
    for (const auto* v : module.variables) vars.push_back(b.CreateString(v->device_name));
    auto body = wire::CreateModuleLoadDirect(b, module.index + 1, &fns, &vars);
    ConstBuffer bulk{module.image.data(), module.image.size()};
    uint64_t id = 0;
    RCUDA_RETURN_IF_ERROR(channel.SendLocked(wire::Request::ModuleLoad, body.Union(), std::span(&bulk, 1), &id));
    const wire::ModuleLoadReply* r = nullptr;
    Status s = channel.ReceiveForLocked(id, &r);
    if (!r && !channel.sticky_.ok()) return s;  // the session broke
    if (!r) {
      loaded->status = Status(s.code(), "loading a module failed: " + s.message());
      Log(LogLevel::kError, "device " + std::to_string(channel.device_) + ": " + loaded->status.message());
    } else {
      RCUDA_RETURN_IF_ERROR(Describe(channel, memory, module, *r, loaded.get()));
      // The module loaded; `s` may still carry an error of earlier
      // asynchronous work, which the caller reports.
      modules_[module.index] = std::move(loaded);
      *out = modules_[module.index].get();
      return s;
    }
  }
  modules_[module.index] = std::move(loaded);
  *out = modules_[module.index].get();
  return (*out)->status;
}

Status ModuleCache::Describe(RpcChannel& channel, AllocationTable& memory, const Module& module,
                             const wire::ModuleLoadReply& r, LoadedModule* loaded) {
  if (!r.functions() || !r.variables() || r.functions()->size() != module.functions.size() ||
      r.variables()->size() != module.variables.size()) {
    return channel.BreakLocked(Status::Corruption("ModuleLoad reply does not match the request"));
  }
  for (size_t i = 0; i < module.functions.size(); ++i) {
    const Function& function = *module.functions[i];
    FunctionDescription f;
    Status s = FromWire(*r.functions()->Get(i), &f);
    if (!s.ok()) return channel.BreakLocked(Status::Corruption("kernel " + function.device_name + ": " + s.message()));
    if (f.found) {
      // The layout says how many bytes to read through each of the
      // program's argument pointers: it must be one the program's kernel
      // can have.
      Status layout = CheckParamLayout(function.device_name, f.params, ProgramParamLayout(function));
      if (!layout.ok()) return channel.BreakLocked(layout);
    } else {
      f.params.clear();
    }
    loaded->functions.push_back(std::move(f));
  }
  for (const auto* v : *r.variables()) {
    loaded->variables.push_back(VariableDescription{v->found(), v->address(), v->size()});
    if (v->found()) memory.Add(v->address(), v->size(), AllocationTable::Kind::kVariable);
  }
  return Status::Ok();
}

Status ModuleCache::Kernel(RpcChannel& channel, AllocationTable& memory, const Function& function,
                             FunctionDescription** out) {
  LoadedModule* module = nullptr;
  RCUDA_RETURN_IF_ERROR(Get(channel, memory, *function.module, &module));
  FunctionDescription* f = &module->functions[function.index];
  if (!f->found) {
    return Status(cudaErrorInvalidDeviceFunction,
                  "kernel " + function.device_name + " has no code for device " + std::to_string(channel.device_));
  }
  *out = f;
  return Status::Ok();
}

void ModuleCache::Clear() {
  modules_.clear();
  loading_.clear();
}

}  // namespace rcuda::client
