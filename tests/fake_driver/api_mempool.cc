// TEST EQUIPMENT: the fake CUDA driver's memory pool calls (memory_pool.h).
#include "tests/fake_driver/device_memory.h"
#include "tests/fake_driver/entry_points.h"
#include "tests/fake_driver/memory_pool.h"
#include "tests/fake_driver/stream_engine.h"

namespace fake {
namespace {

CUresult PoolOf(CUmemoryPool handle, MemoryPool** pool) {
  if (!D().initialized) return CUDA_ERROR_NOT_INITIALIZED;
  auto* p = reinterpret_cast<MemoryPool*>(handle);
  if (!D().pools.Has(p)) return CUDA_ERROR_INVALID_HANDLE;
  *pool = p;
  return CUDA_SUCCESS;
}

}  // namespace

CUresult cuMemPoolCreate(CUmemoryPool* pool, const CUmemPoolProps* props) {
  std::lock_guard lock(D().mu);
  if (!D().initialized) return CUDA_ERROR_NOT_INITIALIZED;
  if (!pool || !props) return CUDA_ERROR_INVALID_VALUE;
  if (props->allocType != CU_MEM_ALLOCATION_TYPE_PINNED || props->location.type != CU_MEM_LOCATION_TYPE_DEVICE) {
    return CUDA_ERROR_INVALID_VALUE;
  }
  Device* dev;
  CUresult r = DeviceOf(props->location.id, &dev);
  if (r != CUDA_SUCCESS) return CUDA_ERROR_INVALID_VALUE;
  if (props->handleTypes != CU_MEM_HANDLE_TYPE_NONE) {
    Log("memory pools exportable to other processes are not modeled by the fake driver");
    return CUDA_ERROR_NOT_SUPPORTED;
  }
  auto* p = new MemoryPool;
  p->device = dev->ordinal;
  dev->pools.push_back(p);
  D().pools.Add(p);
  *pool = reinterpret_cast<CUmemoryPool>(p);
  return CUDA_SUCCESS;
}

// Blocks still allocated stay usable and are unmapped when freed; cached
// blocks go now, as CUDA documents.
CUresult cuMemPoolDestroy(CUmemoryPool pool) {
  std::lock_guard lock(D().mu);
  MemoryPool* p;
  CUresult r = PoolOf(pool, &p);
  if (r != CUDA_SUCCESS) return r;
  if (p->is_default) return CUDA_ERROR_INVALID_VALUE;
  Device* dev = D().devices[p->device].get();
  if (dev->current_pool == p) dev->current_pool = dev->default_pool;
  TrimPool(p, 0);
  p->destroyed = true;
  std::erase(dev->pools, p);
  D().pools.Remove(p);
  // `p` itself stays: outstanding blocks refer to it.
  return CUDA_SUCCESS;
}

CUresult cuMemPoolSetAttribute(CUmemoryPool pool, CUmemPool_attribute attribute, void* value) {
  std::lock_guard lock(D().mu);
  MemoryPool* p;
  CUresult r = PoolOf(pool, &p);
  if (r != CUDA_SUCCESS) return r;
  if (!value) return CUDA_ERROR_INVALID_VALUE;
  // The reuse flags are int, the others 64-bit, as CUDA defines them.
  auto flag = [&] { return *static_cast<const int*>(value); };
  auto wide = [&] { return *static_cast<const cuuint64_t*>(value); };
  switch (attribute) {
    case CU_MEMPOOL_ATTR_REUSE_FOLLOW_EVENT_DEPENDENCIES: p->reuse_follow_event_dependencies = flag(); break;
    case CU_MEMPOOL_ATTR_REUSE_ALLOW_OPPORTUNISTIC: p->reuse_allow_opportunistic = flag(); break;
    case CU_MEMPOOL_ATTR_REUSE_ALLOW_INTERNAL_DEPENDENCIES: p->reuse_allow_internal_dependencies = flag(); break;
    case CU_MEMPOOL_ATTR_RELEASE_THRESHOLD: p->release_threshold = wide(); break;
    // The high watermarks can only be reset (to the current value), by writing 0.
    case CU_MEMPOOL_ATTR_RESERVED_MEM_HIGH:
      if (wide() != 0) return CUDA_ERROR_INVALID_VALUE;
      p->reserved_high = p->reserved;
      break;
    case CU_MEMPOOL_ATTR_USED_MEM_HIGH:
      if (wide() != 0) return CUDA_ERROR_INVALID_VALUE;
      p->used_high = p->used;
      break;
    default:
      return CUDA_ERROR_INVALID_VALUE;  // read-only or unknown
  }
  return CUDA_SUCCESS;
}

CUresult cuMemPoolGetAttribute(CUmemoryPool pool, CUmemPool_attribute attribute, void* value) {
  std::lock_guard lock(D().mu);
  MemoryPool* p;
  CUresult r = PoolOf(pool, &p);
  if (r != CUDA_SUCCESS) return r;
  if (!value) return CUDA_ERROR_INVALID_VALUE;
  auto* flag = static_cast<int*>(value);
  auto* wide = static_cast<cuuint64_t*>(value);
  switch (attribute) {
    case CU_MEMPOOL_ATTR_REUSE_FOLLOW_EVENT_DEPENDENCIES: *flag = p->reuse_follow_event_dependencies; break;
    case CU_MEMPOOL_ATTR_REUSE_ALLOW_OPPORTUNISTIC: *flag = p->reuse_allow_opportunistic; break;
    case CU_MEMPOOL_ATTR_REUSE_ALLOW_INTERNAL_DEPENDENCIES: *flag = p->reuse_allow_internal_dependencies; break;
    case CU_MEMPOOL_ATTR_RELEASE_THRESHOLD: *wide = p->release_threshold; break;
    case CU_MEMPOOL_ATTR_RESERVED_MEM_CURRENT: *wide = p->reserved; break;
    case CU_MEMPOOL_ATTR_RESERVED_MEM_HIGH: *wide = p->reserved_high; break;
    case CU_MEMPOOL_ATTR_USED_MEM_CURRENT: *wide = p->used; break;
    case CU_MEMPOOL_ATTR_USED_MEM_HIGH: *wide = p->used_high; break;
    default:
      return CUDA_ERROR_INVALID_VALUE;
  }
  return CUDA_SUCCESS;
}

CUresult cuMemPoolTrimTo(CUmemoryPool pool, size_t keep) {
  std::lock_guard lock(D().mu);
  MemoryPool* p;
  CUresult r = PoolOf(pool, &p);
  if (r != CUDA_SUCCESS) return r;
  TrimPool(p, keep);
  return CUDA_SUCCESS;
}

CUresult cuDeviceGetDefaultMemPool(CUmemoryPool* pool, CUdevice device) {
  std::lock_guard lock(D().mu);
  Device* dev;
  CUresult r = DeviceOf(device, &dev);
  if (r != CUDA_SUCCESS) return r;
  if (!pool) return CUDA_ERROR_INVALID_VALUE;
  *pool = reinterpret_cast<CUmemoryPool>(DefaultPool(dev));
  return CUDA_SUCCESS;
}

CUresult cuDeviceGetMemPool(CUmemoryPool* pool, CUdevice device) {
  std::lock_guard lock(D().mu);
  Device* dev;
  CUresult r = DeviceOf(device, &dev);
  if (r != CUDA_SUCCESS) return r;
  if (!pool) return CUDA_ERROR_INVALID_VALUE;
  DefaultPool(dev);
  *pool = reinterpret_cast<CUmemoryPool>(dev->current_pool);
  return CUDA_SUCCESS;
}

CUresult cuDeviceSetMemPool(CUdevice device, CUmemoryPool pool) {
  std::lock_guard lock(D().mu);
  Device* dev;
  MemoryPool* p;
  CUresult r = DeviceOf(device, &dev);
  if (r != CUDA_SUCCESS || (r = PoolOf(pool, &p)) != CUDA_SUCCESS) return r;
  if (p->device != dev->ordinal) return CUDA_ERROR_INVALID_VALUE;
  DefaultPool(dev);
  dev->current_pool = p;
  return CUDA_SUCCESS;
}

// The block exists from the call on; it is meant to be used in stream order.
CUresult cuMemAllocFromPoolAsync(CUdeviceptr* ptr, size_t size, CUmemoryPool pool, CUstream stream) {
  std::lock_guard lock(D().mu);
  Context* ctx;
  CUresult r = UsableContext(&ctx);
  if (r != CUDA_SUCCESS) return r;
  MemoryPool* p;
  Stream* s;
  if ((r = PoolOf(pool, &p)) != CUDA_SUCCESS || (r = ResolveStream(ctx, stream, &s)) != CUDA_SUCCESS) return r;
  if (!ptr || size == 0) return CUDA_ERROR_INVALID_VALUE;
  uint64_t base = 0;
  if ((r = PoolAllocate(p, size, &base)) != CUDA_SUCCESS) return r;
  *ptr = base;
  return CUDA_SUCCESS;
}

// The block goes back to its pool (memory from cuMemAlloc is unmapped) when
// the stream reaches the free.
CUresult cuMemFreeAsync(CUdeviceptr ptr, CUstream stream) {
  std::lock_guard lock(D().mu);
  Context* ctx;
  Stream* s;
  CUresult r = UsableStream(stream, &ctx, &s);
  if (r != CUDA_SUCCESS) return r;
  Allocation* a = D().device_memory.AtBase(ptr);
  if (!a || a->kind == Allocation::Kind::kVariable || a->kind == Allocation::Kind::kArray || a->free_pending) {
    return CUDA_ERROR_INVALID_VALUE;
  }
  a->free_pending = true;
  Op op;
  op.what = "cuMemFreeAsync";
  op.run = [ptr] {
    std::lock_guard lock(D().mu);
    if (Allocation* block = D().device_memory.AtBase(ptr)) ReleaseAllocation(*block);
    return CUDA_SUCCESS;
  };
  Enqueue(s, std::move(op));
  return CUDA_SUCCESS;
}

}  // namespace fake
