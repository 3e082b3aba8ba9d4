// TEST EQUIPMENT: the fake CUDA driver's stream-ordered memory pools.
//
// A pool hands out blocks of fake device memory (cuMemAllocFromPoolAsync)
// and takes them back when the stream reaches cuMemFreeAsync. Freed blocks
// stay reserved by the pool, and are reused for requests they fit, until
// cuMemPoolTrimTo releases them or a synchronizing call finds the pool above
// its release threshold, as CUDA's pools do. The used/reserved statistics
// count blocks. All functions expect the driver's lock to be held.
#pragma once

#include <cuda.h>

#include <cstdint>
#include <map>

#include "tests/fake_driver/driver_state.h"

namespace fake {

struct MemoryPool {
  int device = 0;
  bool is_default = false;
  bool destroyed = false;  // by cuMemPoolDestroy; outstanding blocks are unmapped when freed
  int reuse_follow_event_dependencies = 1;
  int reuse_allow_opportunistic = 1;
  int reuse_allow_internal_dependencies = 1;
  uint64_t release_threshold = 0;
  uint64_t used = 0, used_high = 0;
  uint64_t reserved = 0, reserved_high = 0;
  std::multimap<uint64_t, uint64_t> cached;  // size -> base of freed blocks still reserved
};

// The device's default pool, created on first use.
MemoryPool* DefaultPool(Device* dev);

CUresult PoolAllocate(MemoryPool* pool, uint64_t size, uint64_t* ptr);

// A block whose cuMemFreeAsync the stream reached (already out of the
// device memory map).
void ReturnToPool(const Allocation& block);

// Releases cached blocks until the pool reserves at most `keep` bytes.
void TrimPool(MemoryPool* pool, uint64_t keep);

// What synchronizing calls do: each pool of the device above its release
// threshold gives memory back.
void ReleaseAboveThreshold(int device);

}  // namespace fake
