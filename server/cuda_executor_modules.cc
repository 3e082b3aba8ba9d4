// CudaExecutor: modules (CUDA libraries), their kernels and variables, and
// kernel launches (cuda_executor.h). Function handles are indices into
// functions_ plus one, so 0 is never valid; a function of an unloaded module
// keeps its handle, dead.
#include "server/cuda_executor.h"
#include "server/launch_attributes.h"

namespace rcuda {
namespace {

// What the session's client reports for cudaFuncGetAttributes.
void DescribeFunction(const CudaDriver& drv, CUfunction fn, FunctionDescription* fd) {
  auto attr = [&](CUfunction_attribute a) {
    int v = 0;
    drv.cuFuncGetAttribute(&v, a, fn);
    return v;
  };
  fd->max_threads_per_block = attr(CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK);
  fd->shared_size_bytes = attr(CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES);
  fd->const_size_bytes = attr(CU_FUNC_ATTRIBUTE_CONST_SIZE_BYTES);
  fd->local_size_bytes = attr(CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES);
  fd->num_regs = attr(CU_FUNC_ATTRIBUTE_NUM_REGS);
  fd->ptx_version = attr(CU_FUNC_ATTRIBUTE_PTX_VERSION);
  fd->binary_version = attr(CU_FUNC_ATTRIBUTE_BINARY_VERSION);
  fd->max_dynamic_shared_size_bytes = attr(CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES);
}

}  // namespace

Status CudaExecutor::LoadModule(std::string_view fatbin, const std::vector<std::string>& functions,
                                const std::vector<std::string>& variables, uint64_t* module,
                                ModuleDescription* description) {
  CUlibrary lib;
  RCUDA_RETURN_IF_ERROR(Check(drv_.cuLibraryLoadData(&lib, fatbin.data(), nullptr, nullptr, 0, nullptr, nullptr, 0),
                              "cuLibraryLoadData"));
  uint64_t id = ++next_module_;
  libraries_[id] = lib;
  description->functions.clear();
  description->variables.clear();
  for (const auto& name : functions) {
    FunctionDescription fd;
    CUkernel kernel;
    CUfunction fn;
    if (drv_.cuLibraryGetKernel(&kernel, lib, name.c_str()) == CUDA_SUCCESS &&
        drv_.cuKernelGetFunction(&fn, kernel) == CUDA_SUCCESS) {
      fd.found = true;
      for (size_t i = 0;; ++i) {
        size_t offset = 0, size = 0;
        if (drv_.cuFuncGetParamInfo(fn, i, &offset, &size) != CUDA_SUCCESS) break;
        fd.params.push_back(KernelParamInfo{static_cast<uint32_t>(offset), static_cast<uint32_t>(size)});
      }
      DescribeFunction(drv_, fn, &fd);
      functions_.push_back(FunctionEntry{fn, fd.params, id});
      fd.handle = functions_.size();
    }
    description->functions.push_back(std::move(fd));
  }
  for (const auto& name : variables) {
    VariableDescription vd;
    CUdeviceptr address;
    size_t bytes;
    if (drv_.cuLibraryGetGlobal(&address, &bytes, lib, name.c_str()) == CUDA_SUCCESS) {
      vd.found = true;
      vd.address = address;
      vd.size = bytes;
    }
    description->variables.push_back(vd);
  }
  *module = id;
  return Status::Ok();
}

Status CudaExecutor::UnloadModule(uint64_t module) {
  auto it = libraries_.find(module);
  if (it == libraries_.end()) return Status::Cuda(kInvalidResourceHandle, "unknown module");
  // Work already queued may still run its code.
  drv_.cuCtxSynchronize();
  // Its functions' handles stay taken (handles are indices) but dead, and so
  // are graphs that launch them: neither reaches the driver again.
  for (auto& f : functions_) {
    if (f.module == module) {
      f.live = false;
      f.function = nullptr;
    }
  }
  for (auto& [handle, g] : graphs_)
    if (g->modules.count(module)) g->dead = true;
  CUresult r = drv_.cuLibraryUnload(it->second);
  libraries_.erase(it);
  return Check(r, "cuLibraryUnload");
}

Status CudaExecutor::FunctionOf(uint64_t handle, const FunctionEntry** f) {
  if (handle == 0 || handle > functions_.size()) return Status::Cuda(kInvalidResourceHandle, "unknown function");
  if (!functions_[handle - 1].live) return Status::Cuda(kInvalidResourceHandle, "function of an unloaded module");
  *f = &functions_[handle - 1];
  return Status::Ok();
}

Status CudaExecutor::ParamPointers(const FunctionEntry& f, std::span<const uint8_t> params,
                                   std::vector<void*>* pointers) {
  pointers->clear();
  for (const auto& p : f.params) {
    if (p.offset + p.size > params.size()) return Status::InvalidValue("kernel parameter buffer too short");
    pointers->push_back(const_cast<uint8_t*>(params.data()) + p.offset);
  }
  return Status::Ok();
}

Status CudaExecutor::Launch(uint64_t function, Dim3 grid, Dim3 block, uint32_t shared_bytes, uint64_t stream,
                            std::span<const uint8_t> params, const LaunchOptions& options) {
  const FunctionEntry* f = nullptr;
  RCUDA_RETURN_IF_ERROR(FunctionOf(function, &f));
  CUstream s = nullptr;
  RCUDA_RETURN_IF_ERROR(StreamOf(stream, &s));
  launched_since_sync_ = true;
  CUlaunchAttribute attrs[kMaxLaunchAttributes];
  const unsigned n = LaunchAttributes(options, attrs);
  if (n == 0) {
    // The packed buffer as it is: the driver copies it at the call.
    size_t param_bytes = params.size();
    void* extra[] = {CU_LAUNCH_PARAM_BUFFER_POINTER, const_cast<uint8_t*>(params.data()), CU_LAUNCH_PARAM_BUFFER_SIZE,
                     &param_bytes, CU_LAUNCH_PARAM_END};
    return Check(drv_.cuLaunchKernel(f->function, grid.x, grid.y, grid.z, block.x, block.y, block.z, shared_bytes, s,
                                     nullptr, params.empty() ? nullptr : extra),
                 "cuLaunchKernel");
  }
  std::vector<void*> pointers;
  RCUDA_RETURN_IF_ERROR(ParamPointers(*f, params, &pointers));
  CUlaunchConfig config{};
  config.gridDimX = grid.x;
  config.gridDimY = grid.y;
  config.gridDimZ = grid.z;
  config.blockDimX = block.x;
  config.blockDimY = block.y;
  config.blockDimZ = block.z;
  config.sharedMemBytes = shared_bytes;
  config.hStream = s;
  config.attrs = attrs;
  config.numAttrs = n;
  return Check(drv_.cuLaunchKernelEx(&config, f->function, pointers.empty() ? nullptr : pointers.data(), nullptr),
               "cuLaunchKernelEx");
}

}  // namespace rcuda
