#include "tests/fake_driver/memory_pool.h"

#include <algorithm>

#include "tests/fake_driver/device_memory.h"

namespace fake {
namespace {

// Blocks are whole pages, as the fake maps pages.
constexpr uint64_t kBlockGranularity = 4096;

void NoteHighs(MemoryPool* pool) {
  pool->used_high = std::max(pool->used_high, pool->used);
  pool->reserved_high = std::max(pool->reserved_high, pool->reserved);
}

void UnmapCached(MemoryPool* pool, std::multimap<uint64_t, uint64_t>::iterator it) {
  UnmapDeviceMemory(D().devices[pool->device].get(), it->second, it->first);
  pool->reserved -= it->first;
  pool->cached.erase(it);
}

}  // namespace

MemoryPool* DefaultPool(Device* dev) {
  if (!dev->default_pool) {
    auto* pool = new MemoryPool;
    pool->device = dev->ordinal;
    pool->is_default = true;
    dev->default_pool = pool;
    dev->pools.push_back(pool);
    D().pools.Add(pool);
    if (!dev->current_pool) dev->current_pool = pool;
  }
  return dev->default_pool;
}

CUresult PoolAllocate(MemoryPool* pool, uint64_t size, uint64_t* ptr) {
  uint64_t block = (size + kBlockGranularity - 1) / kBlockGranularity * kBlockGranularity;
  // Reuse the smallest cached block that fits without wasting half of it.
  auto it = pool->cached.lower_bound(block);
  uint64_t base = 0;
  if (it != pool->cached.end() && it->first / 2 <= block) {
    block = it->first;
    base = it->second;
    pool->cached.erase(it);
  } else {
    CUresult r = MapDeviceMemory(D().devices[pool->device].get(), block, &base);
    if (r != CUDA_SUCCESS) {
      // Give cached memory back and try once more, as a pool under pressure does.
      TrimPool(pool, 0);
      r = MapDeviceMemory(D().devices[pool->device].get(), block, &base);
      if (r != CUDA_SUCCESS) return r;
    }
    pool->reserved += block;
  }
  pool->used += block;
  NoteHighs(pool);
  Allocation a;
  a.base = base;
  a.size = block;
  a.kind = Allocation::Kind::kPool;
  a.device = pool->device;
  a.pool = pool;
  D().device_memory.Add(a);
  *ptr = base;
  return CUDA_SUCCESS;
}

void ReturnToPool(const Allocation& block) {
  MemoryPool* pool = block.pool;
  pool->used -= std::min(pool->used, block.size);
  if (pool->destroyed) {
    UnmapDeviceMemory(D().devices[pool->device].get(), block.base, block.size);
    pool->reserved -= std::min(pool->reserved, block.size);
    return;
  }
  pool->cached.emplace(block.size, block.base);
}

void TrimPool(MemoryPool* pool, uint64_t keep) {
  // Largest blocks first: fewest releases to get under `keep`.
  while (pool->reserved > keep && !pool->cached.empty()) UnmapCached(pool, std::prev(pool->cached.end()));
}

void ReleaseAboveThreshold(int device) {
  for (MemoryPool* pool : D().devices[device]->pools) TrimPool(pool, pool->release_threshold);
}

}  // namespace fake
