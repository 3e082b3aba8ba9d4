#include "client/runtime.h"

#include <sys/mman.h>

#include <cstdlib>
#include <cstring>

#include "client/log.h"
#include "common/env.h"

namespace rcuda::client {
namespace {

thread_local int tls_current_device = 0;

}  // namespace

Runtime& Runtime::Get() {
  // Never destroyed, like the registry: the program may call CUDA from its
  // own atexit handlers and static destructors.
  static Runtime* runtime = new Runtime;
  return *runtime;
}

Runtime::Runtime() {
  // As rCUDA: RCUDA_DEVICE_COUNT=<n> and RCUDA_DEVICE_<i>=host[@port][:gpu];
  // nothing set means one device, GPU 0 of a server on this host.
  int64_t count = GetEnvInt("RCUDA_DEVICE_COUNT", -1);
  if (count < 0) {
    auto only = GetEnv("RCUDA_DEVICE_0");
    Endpoint endpoint;
    if (only) config_status_ = ParseEndpoint(*only, &endpoint);
    sessions_.push_back(std::make_unique<Session>(0, endpoint));
  } else {
    for (int i = 0; i < count; ++i) {
      std::string name = "RCUDA_DEVICE_" + std::to_string(i);
      auto value = GetEnv(name.c_str());
      Endpoint endpoint;
      if (!value) {
        config_status_ = Status::InvalidValue(name + " is not set but RCUDA_DEVICE_COUNT=" + std::to_string(count));
      } else {
        Status s = ParseEndpoint(*value, &endpoint);
        if (!s.ok()) config_status_ = Status::InvalidValue(name + ": " + s.message());
      }
      sessions_.push_back(std::make_unique<Session>(i, endpoint));
    }
  }
  if (!config_status_.ok()) Log(LogLevel::kError, "bad device configuration: " + config_status_.message());
}

Session* Runtime::session(int device) const {
  if (device < 0 || device >= device_count()) return nullptr;
  return sessions_[device].get();
}

int Runtime::current_device() const { return tls_current_device; }

void Runtime::set_current_device(int device) { tls_current_device = device; }

Session* Runtime::SessionOwning(const void* ptr, size_t size) const {
  uint64_t p = reinterpret_cast<uint64_t>(ptr);
  Session* current = current_session();
  if (current && current->OwnsRange(p, size)) return current;
  for (const auto& s : sessions_)
    if (s.get() != current && s->OwnsRange(p, size)) return s.get();
  return nullptr;
}

void* Runtime::AllocateHost(size_t size, unsigned flags) {
  // Page-aligned, as pinned allocations are.
  void* p = mmap(nullptr, size ? size : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  std::lock_guard lock(host_mu_);
  host_allocations_[p] = {size ? size : 1, flags};
  return p;
}

bool Runtime::FreeHost(void* ptr) {
  std::lock_guard lock(host_mu_);
  auto it = host_allocations_.find(ptr);
  if (it == host_allocations_.end()) return false;
  munmap(ptr, it->second.first);
  host_allocations_.erase(it);
  return true;
}

bool Runtime::IsHostAllocation(const void* ptr, unsigned* flags) const {
  std::lock_guard lock(host_mu_);
  auto it = host_allocations_.find(ptr);
  if (it == host_allocations_.end()) return false;
  if (flags) *flags = it->second.second;
  return true;
}

}  // namespace rcuda::client
