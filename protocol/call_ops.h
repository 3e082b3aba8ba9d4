// The operations carried by the generic wire::Call request: calls with a
// few scalar arguments and results, which would each otherwise need a table
// of their own. Arguments and results are int64 values in the order listed.
// Numbers are part of the protocol: append, never renumber.
#pragma once

#include <cstdint>

namespace rcuda {

enum class CallOp : uint32_t {
  // args: limit -> values: value
  kDeviceGetLimit = 1,
  // args: limit, value (sync)
  kDeviceSetLimit = 2,
  // args: function, attribute, value (sync)
  kFuncSetAttribute = 3,
  // args: function, cache config (sync)
  kFuncSetCacheConfig = 4,
  // args: function, block size, dynamic shared bytes, flags -> values: blocks per SM
  kOccupancyMaxActiveBlocks = 5,
  // args: function, blocks per SM, block size -> values: bytes
  kOccupancyAvailableDynamicSMem = 6,
  // args: location type, location id, alloc type, handle types -> values: pool
  kMemPoolCreate = 7,
  // args: pool (sync)
  kMemPoolDestroy = 8,
  // args: pool, attribute, value (sync)
  kMemPoolSetAttribute = 9,
  // args: pool, attribute -> values: value
  kMemPoolGetAttribute = 10,
  // args: pool, bytes to keep (sync)
  kMemPoolTrimTo = 11,
  // values: the device's default pool
  kDeviceGetDefaultMemPool = 12,
  // values: the device's current pool
  kDeviceGetMemPool = 13,
  // args: pool (sync)
  kDeviceSetMemPool = 14,
  // args: size, stream, pool (0: the device's current pool) -> values: ptr
  kMallocAsync = 15,
  // args: ptr, stream (async)
  kFreeAsync = 16,
  // args: cache config (sync)
  kDeviceSetCacheConfig = 17,
  // values: cache config
  kDeviceGetCacheConfig = 18,
  // args: stream -> values: priority, flags
  kStreamGetInfo = 19,
  // args: function, grid x y z, block x y z, dynamic shared bytes,
  // cluster x y z -> values: cluster size / active clusters
  kOccupancyMaxPotentialClusterSize = 20,
  kOccupancyMaxActiveClusters = 21,
};

}  // namespace rcuda
