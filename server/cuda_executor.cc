#include "server/cuda_executor.h"

#include <spdlog/spdlog.h>

#include <array>
#include <cstring>
#include <unordered_map>

#include "server/cuda_driver.h"
#include "server/device_props.h"

namespace rcuda {
namespace {

constexpr int kInvalidResourceHandle = 400;

// Host-device copies go through pinned staging buffers in chunks, two in
// flight, so that receiving chunk i+1 from the network overlaps copying chunk
// i over PCIe (and the other way round for device to host).
constexpr size_t kStagingChunk = 8 << 20;
constexpr int kStagingBuffers = 2;

class CudaExecutor final : public Executor {
 public:
  explicit CudaExecutor(const ExecutorOptions& options) : options_(options) {}

  ~CudaExecutor() override {
    if (!context_) return;
    for (auto& s : staging_) {
      if (s.event) drv_.cuEventDestroy(s.event);
      if (s.host) drv_.cuMemFreeHost(s.host);
    }
    for (auto& [id, lib] : libraries_) drv_.cuLibraryUnload(lib);
    drv_.cuDevicePrimaryCtxRelease(device_);
  }

  Status Open(int gpu) override {
    RCUDA_RETURN_IF_ERROR(drv_.Load());
    CUresult r = drv_.cuInit(0);
    if (r != CUDA_SUCCESS) return drv_.Error(r, "cuInit");
    int count = 0;
    drv_.cuDeviceGetCount(&count);
    if (gpu < 0 || gpu >= count) {
      return Status(101, "GPU " + std::to_string(gpu) + " requested, this server has " + std::to_string(count));
    }
    if ((r = drv_.cuDeviceGet(&device_, gpu)) != CUDA_SUCCESS) return drv_.Error(r, "cuDeviceGet");
    // The primary context, as the runtime uses: one per process, and the
    // worker process is the session.
    if ((r = drv_.cuDevicePrimaryCtxRetain(&context_, device_)) != CUDA_SUCCESS) {
      return drv_.Error(r, "cuDevicePrimaryCtxRetain");
    }
    if ((r = drv_.cuCtxSetCurrent(context_)) != CUDA_SUCCESS) return drv_.Error(r, "cuCtxSetCurrent");
    for (auto& s : staging_) {
      if ((r = drv_.cuMemHostAlloc(&s.host, kStagingChunk, 0)) != CUDA_SUCCESS) return drv_.Error(r, "cuMemHostAlloc");
      if ((r = drv_.cuEventCreate(&s.event, CU_EVENT_DISABLE_TIMING)) != CUDA_SUCCESS) {
        return drv_.Error(r, "cuEventCreate");
      }
    }
    return Status::Ok();
  }

  Status Describe(DeviceDescription* d) override {
    std::vector<int32_t> attrs(kDeviceAttributeSlots, 0);
    for (int a = 1; a < kDeviceAttributeSlots; ++a) {
      int value = 0;
      if (drv_.cuDeviceGetAttribute(&value, static_cast<CUdevice_attribute>(a), device_) == CUDA_SUCCESS) {
        attrs[a] = value;
      }
    }
    char name[256] = {};
    drv_.cuDeviceGetName(name, sizeof name - 1, device_);
    CUuuid uuid{};
    drv_.cuDeviceGetUuid(&uuid, device_);
    size_t total = 0;
    drv_.cuDeviceTotalMem(&total, device_);
    int version = 0;
    drv_.cuDriverGetVersion(&version);
    d->name = name;
    d->attributes = attrs;
    d->props = BuildDeviceProp(attrs, d->name, reinterpret_cast<const uint8_t*>(uuid.bytes), total);
    d->driver_version = version;
    d->backend = "cuda";
    d->test_device = false;
    d->arch = static_cast<uint32_t>(attrs[CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR] * 10 +
                                    attrs[CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR]);
    d->total_memory = total;
    return Status::Ok();
  }

  Status Allocate(uint64_t size, uint64_t* ptr) override {
    CUdeviceptr p = 0;
    // cudaMalloc(0) succeeds with a null pointer.
    if (size == 0) {
      *ptr = 0;
      return Status::Ok();
    }
    CUresult r = drv_.cuMemAlloc(&p, size);
    if (r != CUDA_SUCCESS) return drv_.Error(r, "cuMemAlloc");
    *ptr = p;
    return Status::Ok();
  }

  Status Free(uint64_t ptr) override {
    if (ptr == 0) return Status::Ok();
    CUresult r = drv_.cuMemFree(ptr);
    return r == CUDA_SUCCESS ? Status::Ok() : drv_.Error(r, "cuMemFree");
  }

  Status MemGetInfo(uint64_t* free, uint64_t* total) override {
    size_t f = 0, t = 0;
    CUresult r = drv_.cuMemGetInfo(&f, &t);
    if (r != CUDA_SUCCESS) return drv_.Error(r, "cuMemGetInfo");
    *free = f;
    *total = t;
    return Status::Ok();
  }

  Status CopyToDevice(uint64_t dst, uint64_t size, uint64_t stream, const ChunkReader& read) override {
    CUstream s;
    RCUDA_RETURN_IF_ERROR(StreamOf(stream, &s));
    uint64_t done = 0;
    int index = 0;
    while (done < size) {
      Staging& buf = staging_[index];
      index = (index + 1) % kStagingBuffers;
      // Wait until this buffer's previous copy has left it.
      CUresult r = drv_.cuEventSynchronize(buf.event);
      if (r != CUDA_SUCCESS) return drv_.Error(r, "copy to device");
      size_t n = std::min<uint64_t>(size - done, kStagingChunk);
      RCUDA_RETURN_IF_ERROR(read(buf.host, n));
      if ((r = drv_.cuMemcpyHtoDAsync(dst + done, buf.host, n, s)) != CUDA_SUCCESS) {
        return drv_.Error(r, "cuMemcpyHtoDAsync");
      }
      if ((r = drv_.cuEventRecord(buf.event, s)) != CUDA_SUCCESS) return drv_.Error(r, "cuEventRecord");
      done += n;
    }
    return Status::Ok();
  }

  Status CopyFromDevice(uint64_t src, uint64_t size, uint64_t stream, const ChunkWriter& write) override {
    CUstream s;
    RCUDA_RETURN_IF_ERROR(StreamOf(stream, &s));
    // Both buffers must be free before they are refilled.
    for (auto& buf : staging_) {
      CUresult r = drv_.cuEventSynchronize(buf.event);
      if (r != CUDA_SUCCESS) return drv_.Error(r, "copy from device");
    }
    uint64_t issued = 0, written = 0;
    std::array<size_t, kStagingBuffers> pending{};
    int issue_index = 0, write_index = 0;
    auto issue = [&]() -> Status {
      Staging& buf = staging_[issue_index];
      size_t n = std::min<uint64_t>(size - issued, kStagingChunk);
      CUresult r = drv_.cuMemcpyDtoHAsync(buf.host, src + issued, n, s);
      if (r != CUDA_SUCCESS) return drv_.Error(r, "cuMemcpyDtoHAsync");
      if ((r = drv_.cuEventRecord(buf.event, s)) != CUDA_SUCCESS) return drv_.Error(r, "cuEventRecord");
      pending[issue_index] = n;
      issued += n;
      issue_index = (issue_index + 1) % kStagingBuffers;
      return Status::Ok();
    };
    for (int i = 0; i < kStagingBuffers && issued < size; ++i) RCUDA_RETURN_IF_ERROR(issue());
    while (written < size) {
      Staging& buf = staging_[write_index];
      CUresult r = drv_.cuEventSynchronize(buf.event);
      if (r != CUDA_SUCCESS) return drv_.Error(r, "cuMemcpyDtoHAsync");
      RCUDA_RETURN_IF_ERROR(write(buf.host, pending[write_index]));
      written += pending[write_index];
      write_index = (write_index + 1) % kStagingBuffers;
      if (issued < size) RCUDA_RETURN_IF_ERROR(issue());
    }
    return Status::Ok();
  }

  Status CopyOnDevice(uint64_t dst, uint64_t src, uint64_t size, uint64_t stream) override {
    CUstream s;
    RCUDA_RETURN_IF_ERROR(StreamOf(stream, &s));
    CUresult r = drv_.cuMemcpyDtoDAsync(dst, src, size, s);
    return r == CUDA_SUCCESS ? Status::Ok() : drv_.Error(r, "cuMemcpyDtoDAsync");
  }

  Status Memset(uint64_t dst, uint8_t value, uint64_t size, uint64_t stream) override {
    CUstream s;
    RCUDA_RETURN_IF_ERROR(StreamOf(stream, &s));
    CUresult r = drv_.cuMemsetD8Async(dst, value, size, s);
    return r == CUDA_SUCCESS ? Status::Ok() : drv_.Error(r, "cuMemsetD8Async");
  }

  Status LoadModule(std::string_view fatbin, const std::vector<std::string>& functions,
                    const std::vector<std::string>& variables, uint64_t* module,
                    ModuleDescription* description) override {
    CUlibrary lib;
    CUresult r = drv_.cuLibraryLoadData(&lib, fatbin.data(), nullptr, nullptr, 0, nullptr, nullptr, 0);
    if (r != CUDA_SUCCESS) return drv_.Error(r, "cuLibraryLoadData");
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
        auto attr = [&](CUfunction_attribute a) {
          int v = 0;
          drv_.cuFuncGetAttribute(&v, a, fn);
          return v;
        };
        fd.max_threads_per_block = attr(CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK);
        fd.shared_size_bytes = attr(CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES);
        fd.const_size_bytes = attr(CU_FUNC_ATTRIBUTE_CONST_SIZE_BYTES);
        fd.local_size_bytes = attr(CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES);
        fd.num_regs = attr(CU_FUNC_ATTRIBUTE_NUM_REGS);
        fd.ptx_version = attr(CU_FUNC_ATTRIBUTE_PTX_VERSION);
        fd.binary_version = attr(CU_FUNC_ATTRIBUTE_BINARY_VERSION);
        fd.max_dynamic_shared_size_bytes = attr(CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES);
        functions_.push_back(fn);
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

  Status UnloadModule(uint64_t module) override {
    auto it = libraries_.find(module);
    if (it == libraries_.end()) return Status(kInvalidResourceHandle, "unknown module");
    // Functions of the library stay in functions_ as dangling handles; the
    // client drops them with the module, and launching one would be a
    // client bug the driver reports.
    CUresult r = drv_.cuLibraryUnload(it->second);
    libraries_.erase(it);
    return r == CUDA_SUCCESS ? Status::Ok() : drv_.Error(r, "cuLibraryUnload");
  }

  Status Launch(uint64_t function, Dim3 grid, Dim3 block, uint32_t shared_bytes, uint64_t stream,
                std::span<const uint8_t> params) override {
    if (function == 0 || function > functions_.size()) return Status(kInvalidResourceHandle, "unknown function");
    CUstream s;
    RCUDA_RETURN_IF_ERROR(StreamOf(stream, &s));
    size_t param_bytes = params.size();
    void* extra[] = {CU_LAUNCH_PARAM_BUFFER_POINTER, const_cast<uint8_t*>(params.data()),
                     CU_LAUNCH_PARAM_BUFFER_SIZE, &param_bytes, CU_LAUNCH_PARAM_END};
    CUresult r = drv_.cuLaunchKernel(functions_[function - 1], grid.x, grid.y, grid.z, block.x, block.y, block.z,
                                     shared_bytes, s, nullptr, params.empty() ? nullptr : extra);
    return r == CUDA_SUCCESS ? Status::Ok() : drv_.Error(r, "cuLaunchKernel");
  }

  Status Synchronize() override {
    CUresult r = drv_.cuCtxSynchronize();
    return r == CUDA_SUCCESS ? Status::Ok() : drv_.Error(r, "cuCtxSynchronize");
  }

 private:
  struct Staging {
    void* host = nullptr;
    CUevent event = nullptr;
  };

  Status StreamOf(uint64_t handle, CUstream* stream) {
    if (handle == kLegacyStream) {
      *stream = CU_STREAM_LEGACY;
      return Status::Ok();
    }
    return Status(kInvalidResourceHandle, "unknown stream");
  }

  ExecutorOptions options_;
  CudaDriver drv_;
  CUdevice device_ = 0;
  CUcontext context_ = nullptr;
  std::array<Staging, kStagingBuffers> staging_;
  std::unordered_map<uint64_t, CUlibrary> libraries_;
  std::vector<CUfunction> functions_;
  uint64_t next_module_ = 0;
};

}  // namespace

std::unique_ptr<Executor> NewCudaExecutor(const ExecutorOptions& options) {
  return std::make_unique<CudaExecutor>(options);
}

}  // namespace rcuda
