// CudaExecutor: the generic calls (protocol/call_ops.h): device limits and
// cache configuration, function attributes and occupancy, stream
// information; memory pools are in cuda_executor_pools.cc.
#include "server/cuda_executor.h"

namespace rcuda {

Status CudaExecutor::Call(uint32_t op, std::span<const int64_t> args, std::vector<int64_t>* values) {
  const CallArgs arg{args};
  const auto call = static_cast<CallOp>(op);
  switch (call) {
    case CallOp::kDeviceGetLimit:
    case CallOp::kDeviceSetLimit:
    case CallOp::kDeviceSetCacheConfig:
    case CallOp::kDeviceGetCacheConfig:
      return DeviceCall(call, arg, values);
    case CallOp::kFuncSetAttribute:
    case CallOp::kFuncSetCacheConfig:
    case CallOp::kOccupancyMaxActiveBlocks:
    case CallOp::kOccupancyAvailableDynamicSMem:
      return FunctionCall(call, arg, values);
    case CallOp::kOccupancyMaxPotentialClusterSize:
    case CallOp::kOccupancyMaxActiveClusters:
      return ClusterCall(call, arg, values);
    case CallOp::kMemPoolCreate:
    case CallOp::kMemPoolDestroy:
    case CallOp::kMemPoolSetAttribute:
    case CallOp::kMemPoolGetAttribute:
    case CallOp::kMemPoolTrimTo:
    case CallOp::kDeviceGetDefaultMemPool:
    case CallOp::kDeviceGetMemPool:
    case CallOp::kDeviceSetMemPool:
    case CallOp::kMallocAsync:
    case CallOp::kFreeAsync:
      return PoolCall(call, arg, values);
    case CallOp::kStreamGetInfo:
      return StreamInfoCall(arg, values);
    case CallOp::kArrayCreate:
    case CallOp::kArrayDestroy:
      return ArrayCall(call, arg, values);
    case CallOp::kTexObjectCreate:
    case CallOp::kTexObjectDestroy:
    case CallOp::kSurfObjectCreate:
    case CallOp::kSurfObjectDestroy:
      return TextureCall(call, arg, values);
    case CallOp::kMipmappedArrayCreate:
    case CallOp::kMipmappedArrayGetLevel:
    case CallOp::kMipmappedArrayDestroy:
    case CallOp::kTexObjectCreateMipmapped:
      return MipmapCall(call, arg, values);
    // Host segments are the session worker's (its hooks call the executor's
    // registered-memory methods); they never come here.
    case CallOp::kHostSegmentMap:
    case CallOp::kHostSegmentUnmap:
    case CallOp::kSegmentCopy:
    case CallOp::kSegmentCopySync:
    case CallOp::kHostSegmentDevicePointer:
      break;
  }
  return Status::NotSupported("call " + std::to_string(op) + " is not supported by this server");
}

Status CudaExecutor::DeviceCall(CallOp op, const CallArgs& arg, std::vector<int64_t>* values) {
  switch (op) {
    case CallOp::kDeviceGetLimit: {
      size_t v = 0;
      RCUDA_RETURN_IF_ERROR(Check(drv_.cuCtxGetLimit(&v, static_cast<CUlimit>(arg(0))), "cuCtxGetLimit"));
      values->push_back(static_cast<int64_t>(v));
      return Status::Ok();
    }
    case CallOp::kDeviceSetLimit:
      return Check(drv_.cuCtxSetLimit(static_cast<CUlimit>(arg(0)), static_cast<size_t>(arg(1))), "cuCtxSetLimit");
    case CallOp::kDeviceSetCacheConfig:
      return Check(drv_.cuCtxSetCacheConfig(static_cast<CUfunc_cache>(arg(0))), "cuCtxSetCacheConfig");
    case CallOp::kDeviceGetCacheConfig: {
      CUfunc_cache c;
      RCUDA_RETURN_IF_ERROR(Check(drv_.cuCtxGetCacheConfig(&c), "cuCtxGetCacheConfig"));
      values->push_back(c);
      return Status::Ok();
    }
    default:
      return Status::NotSupported("not a device call");
  }
}

Status CudaExecutor::FunctionCall(CallOp op, const CallArgs& arg, std::vector<int64_t>* values) {
  const FunctionEntry* entry = nullptr;
  RCUDA_RETURN_IF_ERROR(FunctionOf(static_cast<uint64_t>(arg(0)), &entry));
  CUfunction f = entry->function;
  switch (op) {
    case CallOp::kFuncSetAttribute:
      return Check(drv_.cuFuncSetAttribute(f, static_cast<CUfunction_attribute>(arg(1)), static_cast<int>(arg(2))),
                   "cuFuncSetAttribute");
    case CallOp::kFuncSetCacheConfig:
      return Check(drv_.cuFuncSetCacheConfig(f, static_cast<CUfunc_cache>(arg(1))), "cuFuncSetCacheConfig");
    case CallOp::kOccupancyMaxActiveBlocks: {
      int blocks = 0;
      RCUDA_RETURN_IF_ERROR(Check(drv_.cuOccupancyMaxActiveBlocksPerMultiprocessorWithFlags(
                                      &blocks, f, static_cast<int>(arg(1)), static_cast<size_t>(arg(2)),
                                      static_cast<unsigned>(arg(3))),
                                  "cuOccupancyMaxActiveBlocksPerMultiprocessorWithFlags"));
      values->push_back(blocks);
      return Status::Ok();
    }
    case CallOp::kOccupancyAvailableDynamicSMem: {
      size_t bytes = 0;
      RCUDA_RETURN_IF_ERROR(Check(drv_.cuOccupancyAvailableDynamicSMemPerBlock(&bytes, f, static_cast<int>(arg(1)),
                                                                               static_cast<int>(arg(2))),
                                  "cuOccupancyAvailableDynamicSMemPerBlock"));
      values->push_back(static_cast<int64_t>(bytes));
      return Status::Ok();
    }
    default:
      return Status::NotSupported("not a function call");
  }
}

// args: function, grid x y z, block x y z, dynamic shared bytes, cluster x y z.
Status CudaExecutor::ClusterCall(CallOp op, const CallArgs& arg, std::vector<int64_t>* values) {
  const FunctionEntry* entry = nullptr;
  RCUDA_RETURN_IF_ERROR(FunctionOf(static_cast<uint64_t>(arg(0)), &entry));
  CUlaunchConfig config{};
  config.gridDimX = static_cast<unsigned>(arg(1));
  config.gridDimY = static_cast<unsigned>(arg(2));
  config.gridDimZ = static_cast<unsigned>(arg(3));
  config.blockDimX = static_cast<unsigned>(arg(4));
  config.blockDimY = static_cast<unsigned>(arg(5));
  config.blockDimZ = static_cast<unsigned>(arg(6));
  config.sharedMemBytes = static_cast<unsigned>(arg(7));
  CUlaunchAttribute cluster;
  if (arg(8)) {
    cluster.id = CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION;
    cluster.value.clusterDim.x = static_cast<unsigned>(arg(8));
    cluster.value.clusterDim.y = static_cast<unsigned>(arg(9));
    cluster.value.clusterDim.z = static_cast<unsigned>(arg(10));
    config.attrs = &cluster;
    config.numAttrs = 1;
  }
  int result = 0;
  CUresult r = op == CallOp::kOccupancyMaxPotentialClusterSize
                   ? drv_.cuOccupancyMaxPotentialClusterSize(&result, entry->function, &config)
                   : drv_.cuOccupancyMaxActiveClusters(&result, entry->function, &config);
  RCUDA_RETURN_IF_ERROR(Check(r, "cuOccupancyMaxCluster*"));
  values->push_back(result);
  return Status::Ok();
}

Status CudaExecutor::StreamInfoCall(const CallArgs& arg, std::vector<int64_t>* values) {
  CUstream s = nullptr;
  RCUDA_RETURN_IF_ERROR(StreamOf(static_cast<uint64_t>(arg(0)), &s));
  int priority = 0;
  unsigned flags = 0;
  RCUDA_RETURN_IF_ERROR(Check(drv_.cuStreamGetPriority(s, &priority), "cuStreamGetPriority"));
  RCUDA_RETURN_IF_ERROR(Check(drv_.cuStreamGetFlags(s, &flags), "cuStreamGetFlags"));
  values->push_back(priority);
  values->push_back(flags);
  return Status::Ok();
}

}  // namespace rcuda
