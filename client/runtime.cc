#include "client/runtime.h"

#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "client/log.h"
#include "client/objects.h"
#include "common/env.h"
#include "protocol/host_segment.h"

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
  rt.PrivatizeSegmentsInChild();
  rt.host_mu_.unlock();
  for (auto it = rt.sessions_.rbegin(); it != rt.sessions_.rend(); ++it) (*it)->ResetInForkedChild();
}

void Runtime::PrivatizeSegmentsInChild() {
  // A host segment is a shared mapping: left as it is, the child's writes
  // would land in the parent's buffer. Each becomes a private copy at the
  // same address, as the anonymous memory of other pinned buffers is.
  for (auto& [base, range] : host_ranges_) {
    if (!range.session) continue;
    void* copy = mmap(nullptr, range.mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (copy == MAP_FAILED) continue;  // stays shared; the child's session never names it
    std::memcpy(copy, base, range.mapped);
    if (mremap(copy, range.mapped, range.mapped, MREMAP_MAYMOVE | MREMAP_FIXED, const_cast<char*>(base)) ==
        MAP_FAILED) {
      munmap(copy, range.mapped);
      continue;
    }
    range.session = nullptr;  // the child's sessions start afresh: staged from now on
  }
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

void* Runtime::AllocateHost(size_t size, unsigned flags, cudaError_t* error) {
  *error = cudaErrorMemoryAllocation;
  const size_t bytes = size ? size : 1;
  Session* session = current_session();
  if (session && session->SharesHostMemory()) {
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    if (bytes > SIZE_MAX - page) return nullptr;
    const size_t mapped = (bytes + page - 1) / page * page;
    int fd = -1;
    void* p = nullptr;
    Status s = CreateHostSegment(mapped, &fd, &p);
    int64_t segment = 0;
    if (s.ok()) {
      s = session->HostSegmentMap(fd, mapped, &segment);
      close(fd);  // the mappings (ours, the worker's) keep the memory
      if (!s.ok()) munmap(p, mapped);
    }
    if (s.ok()) {
      std::lock_guard lock(host_mu_);
      host_ranges_[static_cast<const char*>(p)] =
          HostRange{bytes, flags, false, session, session->generation(), segment, mapped, 0};
      *error = cudaSuccess;
      return p;
    }
    // The session's cap, or no memory: the program's error. Anything else
    // (a server without host segments): anonymous memory, staged as before.
    if (s.ToCudaError() == cudaErrorMemoryAllocation) return nullptr;
    static std::atomic<bool> logged{false};
    if (!logged.exchange(true)) {
      Log(LogLevel::kWarn, "pinned memory is not shared with the server (" + s.message() + "): its copies are staged");
    }
  }
  // Page-aligned, as pinned allocations are.
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  std::lock_guard lock(host_mu_);
  host_ranges_[static_cast<const char*>(p)] = HostRange{bytes, flags, false};
  *error = cudaSuccess;
  return p;
}

bool Runtime::LiveSegment(const HostRange& range) {
  return range.session && range.session->generation() == range.generation;
}

cudaError_t Runtime::FreeHost(void* ptr) {
  HostRange range;
  {
    std::lock_guard lock(host_mu_);
    auto it = host_ranges_.find(static_cast<const char*>(ptr));
    if (it == host_ranges_.end() || it->second.registered) return cudaErrorInvalidValue;
    range = it->second;
    host_ranges_.erase(it);
  }
  if (!range.session) {
    munmap(ptr, range.mapped ? range.mapped : range.size);  // mapped: a segment a forked child made private
    return cudaSuccess;
  }
  // The worker unmaps it first (after the work that may still use it), so
  // that the memory is not reused while a copy could still reach it.
  Status s = LiveSegment(range) ? range.session->HostSegmentUnmap(range.segment) : Status::Ok();
  munmap(ptr, range.mapped);
  return static_cast<cudaError_t>(s.ToCudaError());
}

bool Runtime::FindSegment(const void* ptr, size_t size, Session* session, int64_t* segment, uint64_t* offset) const {
  std::lock_guard lock(host_mu_);
  const char* p = static_cast<const char*>(ptr);
  auto it = host_ranges_.upper_bound(p);
  if (it == host_ranges_.begin()) return false;
  --it;
  const HostRange& r = it->second;
  const size_t at = p - it->first;
  if (r.session != session || !LiveSegment(r) || at >= r.size || size > r.size - at) return false;
  *segment = r.segment;
  *offset = at;
  return true;
}

cudaError_t Runtime::DevicePointer(void* host, void** device) {
  HostRange range;
  const char* base = nullptr;
  {
    std::lock_guard lock(host_mu_);
    const char* p = static_cast<const char*>(host);
    auto it = host_ranges_.upper_bound(p);
    if (it == host_ranges_.begin()) return cudaErrorInvalidValue;
    --it;
    if (static_cast<size_t>(p - it->first) >= it->second.size) return cudaErrorInvalidValue;
    base = it->first;
    range = it->second;
  }
  // Only a host segment is mapped into the GPU's address space: other
  // pinned memory lives on the client alone.
  if (!LiveSegment(range)) return cudaErrorNotSupported;
  if (range.session != current_session()) return cudaErrorInvalidDevice;
  uint64_t device_base = range.device_base;
  if (!device_base) {
    int64_t ptr = 0;
    Status s = range.session->HostSegmentDevicePointer(range.segment, &ptr);
    if (!s.ok()) return static_cast<cudaError_t>(s.ToCudaError());
    device_base = static_cast<uint64_t>(ptr);
    std::lock_guard lock(host_mu_);
    auto it = host_ranges_.find(base);
    if (it != host_ranges_.end() && it->second.segment == range.segment) it->second.device_base = device_base;
  }
  *device = reinterpret_cast<void*>(device_base + (static_cast<const char*>(host) - base));
  return cudaSuccess;
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
