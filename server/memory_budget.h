// The GPU memory a session may still take: its lease's grant (with
// --auth-key-file), shared with the lease's other sessions through the
// daemon's LeaseMemory region, or no limit. Everything a session makes the
// GPU hold is charged here before it is taken: allocations, pitched
// allocations by their pitch, stream-ordered pools by what they reserve,
// module images and globals, and the memory device limits reserve.
// Used by the session thread only.
#pragma once

#include <cstdint>
#include <memory>

#include "server/lease_memory.h"

namespace rcuda {

class MemoryBudget {
 public:
  // `limit` 0: no limit. `shared` (may be null): the lease's region, in which
  // this session charges `slot`; without it the session counts alone.
  void Configure(uint64_t limit, std::unique_ptr<LeaseMemory> shared, int slot);

  uint64_t limit() const { return limit_; }
  // Charges `bytes`; false (and nothing charged) when that would take the
  // lease past its grant.
  bool Charge(uint64_t bytes);
  // Charges memory the GPU already holds, whatever the grant says.
  void ForceCharge(uint64_t bytes);
  void Release(uint64_t bytes);
  // This session's charges, and what the lease may still take.
  uint64_t charged() const { return charged_; }
  uint64_t available() const;

 private:
  uint64_t limit_ = 0;
  std::unique_ptr<LeaseMemory> shared_;
  int slot_ = -1;
  uint64_t charged_ = 0;
};

}  // namespace rcuda
