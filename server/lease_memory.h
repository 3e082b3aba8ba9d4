// The GPU memory one lease holds on one GPU of this server, shared by the
// workers of all the lease's sessions, so that a token opening many sessions
// still gets its grant once, not once per session.
//
// A small memfd made by the daemon (sealed: it can neither shrink nor grow)
// and handed to each worker of the lease with its session. Each session has
// a slot that holds what it charged; a charge succeeds when the slots' sum
// plus the request stays within the grant. A robust process-shared mutex
// makes check-and-charge atomic across the workers and survives a worker
// that dies holding it. When a session's worker ends, the daemon clears its
// slot: the driver freed whatever the process held.
#pragma once

#include <pthread.h>

#include <cstdint>
#include <memory>

#include "common/status.h"

namespace rcuda {

class LeaseMemory {
 public:
  static constexpr int kSlots = 256;  // sessions of one lease on one GPU at once

  // Creates a region (all slots empty); *fd is the memfd to hand to workers.
  static Status Create(int* fd);
  // Maps the region of `fd` (the caller keeps the fd).
  static Status Map(int fd, std::unique_ptr<LeaseMemory>* memory);
  ~LeaseMemory();
  LeaseMemory(const LeaseMemory&) = delete;
  LeaseMemory& operator=(const LeaseMemory&) = delete;

  // Adds `bytes` to `slot` if the lease's total stays within `limit`.
  bool Charge(int slot, uint64_t bytes, uint64_t limit);
  // Adds `bytes` to `slot` whatever the total: memory the GPU already holds
  // (a pool's reserve found larger than charged).
  void ForceCharge(int slot, uint64_t bytes);
  void Release(int slot, uint64_t bytes);
  // The session of `slot` ended.
  void ClearSlot(int slot);
  uint64_t Total();
  uint64_t SlotBytes(int slot);

 private:
  struct Region;
  explicit LeaseMemory(Region* region) : region_(region) {}
  // Locks the region's mutex, recovering it from a worker that died holding it.
  void Lock();
  void Unlock();
  uint64_t SumLocked() const;

  Region* region_;
};

}  // namespace rcuda
