#include "client/graph_memory.h"

#include <algorithm>

namespace rcuda::client {

GraphMemory& GraphMemory::Get() {
  static auto* memory = new GraphMemory;  // never destroyed: used until exit
  return *memory;
}

uint64_t GraphMemory::HeldLocked(int device) {
  uint64_t held = 0;
  for (const auto& [ptr, a] : allocations_)
    if (a.session->device() == device) held += a.bytes;
  return held;
}

cudaError_t GraphMemory::Allocate(Session* session, size_t bytes, uint64_t* dptr) {
  if (!bytes) return cudaErrorInvalidValue;
  uint64_t ptr = 0;
  Status s = session->MemAlloc(bytes, &ptr);
  if (!s.ok()) return static_cast<cudaError_t>(s.ToCudaError());
  MutexLock lock(&mu_);
  allocations_[ptr] = Allocation{session, bytes};
  uint64_t& high = high_[session->device()];
  high = std::max(high, HeldLocked(session->device()));
  *dptr = ptr;
  return cudaSuccess;
}

bool GraphMemory::IsAllocation(uint64_t dptr) {
  MutexLock lock(&mu_);
  return allocations_.count(dptr) != 0;
}

void GraphMemory::Retain(uint64_t dptr) {
  MutexLock lock(&mu_);
  auto it = allocations_.find(dptr);
  if (it != allocations_.end()) ++it->second.refs;
}

void GraphMemory::Release(uint64_t dptr) {
  {
    MutexLock lock(&mu_);
    auto it = allocations_.find(dptr);
    if (it == allocations_.end()) return;
    --it->second.refs;
  }
  FreeIfUnused(dptr);
}

void GraphMemory::Launched(const std::vector<uint64_t>& escaping, const std::vector<uint64_t>& freed) {
  {
    MutexLock lock(&mu_);
    for (uint64_t p : escaping) {
      auto it = allocations_.find(p);
      if (it != allocations_.end()) it->second.live = true;
    }
    for (uint64_t p : freed) {
      auto it = allocations_.find(p);
      if (it != allocations_.end()) it->second.live = false;
    }
  }
  for (uint64_t p : freed) FreeIfUnused(p);
}

bool GraphMemory::ProgramFree(uint64_t dptr, cudaError_t* error) {
  {
    MutexLock lock(&mu_);
    auto it = allocations_.find(dptr);
    if (it == allocations_.end()) return false;
    if (!it->second.live) {
      *error = cudaErrorInvalidValue;  // not allocated now: never launched, or freed already
      return true;
    }
    it->second.live = false;
  }
  *error = cudaSuccess;
  FreeIfUnused(dptr);
  return true;
}

void GraphMemory::FreeIfUnused(uint64_t dptr) {
  Session* session = nullptr;
  {
    MutexLock lock(&mu_);
    auto it = allocations_.find(dptr);
    if (it == allocations_.end() || it->second.refs > 0 || it->second.live) return;
    session = it->second.session;
    allocations_.erase(it);
  }
  // The server frees it after the work already sent (cuMemFree waits for
  // the device); a failure here (a lost session) leaves nothing to free.
  (void)session->MemFree(dptr);
}

cudaError_t GraphMemory::GetAttribute(int device, cudaGraphMemAttributeType attr, uint64_t* value) {
  MutexLock lock(&mu_);
  switch (attr) {
    case cudaGraphMemAttrUsedMemCurrent:
    case cudaGraphMemAttrReservedMemCurrent:
      *value = HeldLocked(device);
      return cudaSuccess;
    case cudaGraphMemAttrUsedMemHigh:
    case cudaGraphMemAttrReservedMemHigh:
      *value = high_[device];
      return cudaSuccess;
    default:
      return cudaErrorInvalidValue;
  }
}

cudaError_t GraphMemory::ResetHigh(int device, cudaGraphMemAttributeType attr) {
  if (attr != cudaGraphMemAttrUsedMemHigh && attr != cudaGraphMemAttrReservedMemHigh) return cudaErrorInvalidValue;
  MutexLock lock(&mu_);
  // Both high marks are one number here: a reset of either resets it.
  high_[device] = HeldLocked(device);
  return cudaSuccess;
}

}  // namespace rcuda::client
