#include "client/registry.h"

#include <cstring>
#include <mutex>

#include "client/log.h"
#include "common/fatbin.h"

namespace rcuda::client {

Registry& Registry::Get() {
  // Never destroyed: atexit handlers of the program (__cudaUnregisterFatBinary)
  // may run after this library's static destructors would have.
  static Registry* registry = new Registry;
  return *registry;
}

Module* Registry::AddModule(const void* fatbin_wrapper) {
  FatbinWrapper wrapper;
  std::memcpy(&wrapper, fatbin_wrapper, sizeof wrapper);
  auto module = std::make_unique<Module>();
  if (wrapper.magic == kFatbinWrapperMagic && wrapper.data) {
    size_t size = FatbinarySize(wrapper.data);
    if (size) module->image = std::string_view(static_cast<const char*>(wrapper.data), size);
  } else if (FatbinarySize(fatbin_wrapper)) {
    // Some callers pass the fatbinary itself rather than its wrapper.
    module->image = std::string_view(static_cast<const char*>(fatbin_wrapper), FatbinarySize(fatbin_wrapper));
  }
  if (module->image.empty()) Log(LogLevel::kError, "registered a fatbinary rcuda cannot read; its kernels will fail");
  std::unique_lock lock(mu_);
  module->index = modules_.size();
  modules_.push_back(std::move(module));
  return modules_.back().get();
}

void Registry::AddFunction(Module* module, const void* host_stub, const char* device_name) {
  std::unique_lock lock(mu_);
  auto f = std::make_unique<Function>(Function{module, module->functions.size(), host_stub, device_name});
  module->functions.push_back(f.get());
  by_stub_[host_stub] = f.get();
  by_object_[f.get()] = f.get();
  functions_.push_back(std::move(f));
}

void Registry::AddVariable(Module* module, const void* host_shadow, const char* device_name, size_t size,
                           bool constant, bool managed) {
  std::unique_lock lock(mu_);
  auto v = std::make_unique<Variable>(
      Variable{module, module->variables.size(), host_shadow, device_name, size, constant, managed});
  module->variables.push_back(v.get());
  if (managed) module->has_managed = true;
  by_shadow_[host_shadow] = v.get();
  variables_.push_back(std::move(v));
}

Function* Registry::FindFunction(const void* host_stub) const {
  std::shared_lock lock(mu_);
  auto it = by_stub_.find(host_stub);
  return it == by_stub_.end() ? nullptr : it->second;
}

bool Registry::IsFunction(const void* p) const {
  std::shared_lock lock(mu_);
  return by_object_.count(p) != 0;
}

Variable* Registry::FindVariable(const void* host_shadow) const {
  std::shared_lock lock(mu_);
  auto it = by_shadow_.find(host_shadow);
  return it == by_shadow_.end() ? nullptr : it->second;
}

Module* Registry::module(size_t index) const {
  std::shared_lock lock(mu_);
  return index < modules_.size() ? modules_[index].get() : nullptr;
}

size_t Registry::module_count() const {
  std::shared_lock lock(mu_);
  return modules_.size();
}

}  // namespace rcuda::client
