// CudaExecutor: memory pools and stream-ordered allocation, the generic
// calls kMemPool*, kDevice*MemPool, kMallocAsync and kFreeAsync
// (cuda_executor.h). Pool handles are the executor's own numbers, one per
// driver pool the session has seen.
#include "server/cuda_executor.h"

namespace rcuda {

Status CudaExecutor::PoolOf(int64_t handle, CUmemoryPool* pool) {
  auto it = pools_.find(handle);
  if (it == pools_.end()) return Status::Cuda(kInvalidResourceHandle, "unknown memory pool");
  *pool = it->second;
  return Status::Ok();
}

int64_t CudaExecutor::PoolHandle(CUmemoryPool pool) {
  for (const auto& [h, q] : pools_)
    if (q == pool) return h;
  int64_t h = static_cast<int64_t>(++next_handle_);
  pools_[h] = pool;
  return h;
}

Status CudaExecutor::PoolCall(CallOp op, const CallArgs& arg, std::vector<int64_t>* values) {
  CUmemoryPool p = nullptr;
  switch (op) {
    case CallOp::kMemPoolCreate: {
      CUmemPoolProps props{};
      props.allocType = static_cast<CUmemAllocationType>(arg(2));
      props.handleTypes = static_cast<CUmemAllocationHandleType>(arg(3));
      props.location.type = static_cast<CUmemLocationType>(arg(0));
      props.location.id = static_cast<int>(arg(1));
      RCUDA_RETURN_IF_ERROR(Check(drv_.cuMemPoolCreate(&p, &props), "cuMemPoolCreate"));
      values->push_back(PoolHandle(p));
      return Status::Ok();
    }
    case CallOp::kMemPoolDestroy:
      RCUDA_RETURN_IF_ERROR(PoolOf(arg(0), &p));
      pools_.erase(arg(0));
      return Check(drv_.cuMemPoolDestroy(p), "cuMemPoolDestroy");
    case CallOp::kMemPoolSetAttribute: {
      RCUDA_RETURN_IF_ERROR(PoolOf(arg(0), &p));
      pool_release_pending_ = true;  // a lower threshold applies at the next synchronization
      // Threshold and counters are 64-bit, the reuse flags int.
      auto attr = static_cast<CUmemPool_attribute>(arg(1));
      cuuint64_t v64 = static_cast<cuuint64_t>(arg(2));
      int v32 = static_cast<int>(arg(2));
      bool wide = attr >= CU_MEMPOOL_ATTR_RELEASE_THRESHOLD;
      return Check(drv_.cuMemPoolSetAttribute(p, attr, wide ? static_cast<void*>(&v64) : &v32),
                   "cuMemPoolSetAttribute");
    }
    case CallOp::kMemPoolGetAttribute: {
      RCUDA_RETURN_IF_ERROR(PoolOf(arg(0), &p));
      auto attr = static_cast<CUmemPool_attribute>(arg(1));
      cuuint64_t v64 = 0;
      int v32 = 0;
      bool wide = attr >= CU_MEMPOOL_ATTR_RELEASE_THRESHOLD;
      RCUDA_RETURN_IF_ERROR(Check(drv_.cuMemPoolGetAttribute(p, attr, wide ? static_cast<void*>(&v64) : &v32),
                                  "cuMemPoolGetAttribute"));
      values->push_back(wide ? static_cast<int64_t>(v64) : v32);
      return Status::Ok();
    }
    case CallOp::kMemPoolTrimTo:
      RCUDA_RETURN_IF_ERROR(PoolOf(arg(0), &p));
      return Check(drv_.cuMemPoolTrimTo(p, static_cast<size_t>(arg(1))), "cuMemPoolTrimTo");
    case CallOp::kDeviceGetDefaultMemPool:
    case CallOp::kDeviceGetMemPool: {
      CUresult r = op == CallOp::kDeviceGetDefaultMemPool ? drv_.cuDeviceGetDefaultMemPool(&p, device_)
                                                          : drv_.cuDeviceGetMemPool(&p, device_);
      RCUDA_RETURN_IF_ERROR(Check(r, "cuDeviceGetMemPool"));
      values->push_back(PoolHandle(p));
      return Status::Ok();
    }
    case CallOp::kDeviceSetMemPool:
      RCUDA_RETURN_IF_ERROR(PoolOf(arg(0), &p));
      return Check(drv_.cuDeviceSetMemPool(device_, p), "cuDeviceSetMemPool");
    case CallOp::kMallocAsync: {
      // args: size, stream, pool (0: the device's current pool)
      CUstream s = nullptr;
      RCUDA_RETURN_IF_ERROR(StreamOf(static_cast<uint64_t>(arg(1)), &s));
      if (arg(2) == 0) {
        RCUDA_RETURN_IF_ERROR(Check(drv_.cuDeviceGetMemPool(&p, device_), "cuDeviceGetMemPool"));
      } else {
        RCUDA_RETURN_IF_ERROR(PoolOf(arg(2), &p));
      }
      CUdeviceptr ptr = 0;
      RCUDA_RETURN_IF_ERROR(
          Check(drv_.cuMemAllocFromPoolAsync(&ptr, static_cast<size_t>(arg(0)), p, s), "cuMemAllocFromPoolAsync"));
      values->push_back(static_cast<int64_t>(ptr));
      return Status::Ok();
    }
    case CallOp::kFreeAsync: {
      CUstream s = nullptr;
      RCUDA_RETURN_IF_ERROR(StreamOf(static_cast<uint64_t>(arg(1)), &s));
      pool_release_pending_ = true;  // see SettleWait
      return Check(drv_.cuMemFreeAsync(static_cast<CUdeviceptr>(arg(0)), s), "cuMemFreeAsync");
    }
    default:
      return Status::NotSupported("not a memory pool call");
  }
}

}  // namespace rcuda
