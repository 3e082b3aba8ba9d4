#include "client/runtime.h"

#include <pthread.h>
#include <sys/mman.h>

#include <cstdlib>
#include <cstring>

#include "client/log.h"
#include "client/objects.h"
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
  pthread_atfork(&Runtime::PrepareFork, &Runtime::ParentAfterFork, &Runtime::ChildAfterFork);
}

void Runtime::PrepareFork() {
  Runtime& rt = Get();
  for (auto& s : rt.sessions_) s->LockForFork();
  rt.host_mu_.lock();
  LockObjectsForFork();
}

void Runtime::ParentAfterFork() {
  Runtime& rt = Get();
  UnlockObjectsAfterFork();
  rt.host_mu_.unlock();
  for (auto it = rt.sessions_.rbegin(); it != rt.sessions_.rend(); ++it) (*it)->UnlockAfterFork();
}

void Runtime::ChildAfterFork() {
  Runtime& rt = Get();
  UnlockObjectsAfterFork();
  rt.host_mu_.unlock();
  for (auto it = rt.sessions_.rbegin(); it != rt.sessions_.rend(); ++it) (*it)->ResetInForkedChild();
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
  host_ranges_[static_cast<const char*>(p)] = HostRange{size ? size : 1, flags, false};
  return p;
}

bool Runtime::FreeHost(void* ptr) {
  std::lock_guard lock(host_mu_);
  auto it = host_ranges_.find(static_cast<const char*>(ptr));
  if (it == host_ranges_.end() || it->second.registered) return false;
  munmap(ptr, it->second.size);
  host_ranges_.erase(it);
  return true;
}

bool Runtime::RegisterHost(void* ptr, size_t size, unsigned flags) {
  std::lock_guard lock(host_mu_);
  const char* p = static_cast<const char*>(ptr);
  // Overlapping registrations are an error in CUDA.
  auto it = host_ranges_.upper_bound(p);
  if (it != host_ranges_.end() && it->first < p + size) return false;
  if (it != host_ranges_.begin() && std::prev(it)->first + std::prev(it)->second.size > p) return false;
  host_ranges_[p] = HostRange{size, flags, true};
  return true;
}

bool Runtime::UnregisterHost(void* ptr) {
  std::lock_guard lock(host_mu_);
  auto it = host_ranges_.find(static_cast<const char*>(ptr));
  if (it == host_ranges_.end() || !it->second.registered) return false;
  host_ranges_.erase(it);
  return true;
}

bool Runtime::IsPinned(const void* ptr, size_t size, const void** base, unsigned* flags) const {
  std::lock_guard lock(host_mu_);
  const char* p = static_cast<const char*>(ptr);
  auto it = host_ranges_.upper_bound(p);
  if (it == host_ranges_.begin()) return false;
  --it;
  size_t offset = p - it->first;
  if (offset >= it->second.size || size > it->second.size - offset) return false;
  if (base) *base = it->first;
  if (flags) *flags = it->second.flags;
  return true;
}

}  // namespace rcuda::client
