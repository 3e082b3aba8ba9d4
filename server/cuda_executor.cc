#include "server/cuda_executor.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <deque>
#include <cstring>
#include <mutex>
#include <set>
#include <unordered_map>

#include "protocol/call_ops.h"
#include "server/cuda_driver.h"
#include "server/device_props.h"
#include "server/host_budget.h"

namespace rcuda {
namespace {

constexpr int kInvalidResourceHandle = 400;

// Host-device copies go through pinned staging buffers in chunks, two in
// flight, so that receiving chunk i+1 from the network overlaps copying chunk
// i over PCIe (and the other way round for device to host).
constexpr size_t kStagingChunk = 8 << 20;
constexpr int kStagingBuffers = 2;
constexpr size_t kUploadChunks = 16;  // 128 MiB of pinned upload staging at most, per session
// A device-to-host copy behind busy work gets its own pinned buffer up to
// this size (larger ones hold up the session while they wait).
constexpr size_t kDeferredCopyMax = 64 << 20;

class CudaExecutor final : public Executor {
  struct FunctionEntry {
    CUfunction function;
    std::vector<KernelParamInfo> params;
    uint64_t module = 0;
    bool live = true;  // false once its module is unloaded
  };

 public:
  explicit CudaExecutor(const ExecutorOptions& options)
      : options_(options), host_budget_(options.host_staging_bytes), pool_(&host_budget_) {}

  ~CudaExecutor() override {
    if (!context_) return;
    for (auto& s : staging_) {
      if (s.event) drv_.cuEventDestroy(s.event);
      if (s.host) drv_.cuMemFreeHost(s.host);
    }
    drv_.cuCtxSynchronize();
    pool_.FreeAll(drv_);
    for (auto* list : {&upload_free_}) {
      for (auto& b : *list) {
        drv_.cuEventDestroy(b.event);
        drv_.cuMemFreeHost(b.host);
      }
    }
    for (auto& b : upload_busy_) {
      drv_.cuEventDestroy(b.event);
      drv_.cuMemFreeHost(b.host);
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
    CUstream s = nullptr;
    RCUDA_RETURN_IF_ERROR(StreamOf(stream, &s));
    uint64_t done = 0;
    while (done < size) {
      Staging buf;
      RCUDA_RETURN_IF_ERROR(AcquireUpload(&buf));
      size_t n = std::min<uint64_t>(size - done, kStagingChunk);
      Status st = read(buf.host, n);
      CUresult r = CUDA_SUCCESS;
      if (st.ok()) r = drv_.cuMemcpyHtoDAsync(dst + done, buf.host, n, s);
      if (st.ok() && r == CUDA_SUCCESS) r = drv_.cuEventRecord(buf.event, s);
      upload_busy_.push_back(buf);  // free again once its event has passed
      RCUDA_RETURN_IF_ERROR(st);
      if (r != CUDA_SUCCESS) return drv_.Error(r, "copy to device");
      done += n;
    }
    return Status::Ok();
  }

  Status CopyFromDevice(uint64_t src, uint64_t size, uint64_t stream, const ChunkWriter& write) override {
    CUstream s = nullptr;
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

  Status PrepareCopyFromDevice(uint64_t src, uint64_t size, uint64_t stream, std::function<Status()>* wait,
                               const void** data, std::function<void()>* release) override {
    if (size > kDeferredCopyMax) return Status(Status::kNotSupported, "deferred copy too large");
    CUstream s = nullptr;
    RCUDA_RETURN_IF_ERROR(StreamOf(stream, &s));
    void* buffer = pool_.Acquire(drv_, size);
    if (!buffer) return Status(Status::kNotSupported, "no pinned memory for a deferred copy");
    CUevent done = nullptr;
    CUresult r = drv_.cuMemcpyDtoHAsync(buffer, src, size, s);
    if (r == CUDA_SUCCESS) r = drv_.cuEventCreate(&done, CU_EVENT_DISABLE_TIMING);
    if (r == CUDA_SUCCESS) r = drv_.cuEventRecord(done, s);
    if (r != CUDA_SUCCESS) {
      if (done) drv_.cuEventDestroy(done);
      pool_.Release(buffer);
      return drv_.Error(r, "cuMemcpyDtoHAsync");
    }
    CudaDriver* drv = &drv_;
    CUcontext ctx = context_;
    *wait = [drv, ctx, done] {
      drv->cuCtxSetCurrent(ctx);
      CUresult result = drv->cuEventSynchronize(done);
      drv->cuEventDestroy(done);
      return result == CUDA_SUCCESS ? Status::Ok() : drv->Error(result, "cuMemcpyDtoHAsync");
    };
    *data = buffer;
    PinnedPool* pool = &pool_;
    *release = [pool, buffer] { pool->Release(buffer); };
    return Status::Ok();
  }

  Status CopyOnDevice(uint64_t dst, uint64_t src, uint64_t size, uint64_t stream) override {
    CUstream s = nullptr;
    RCUDA_RETURN_IF_ERROR(StreamOf(stream, &s));
    CUresult r = drv_.cuMemcpyDtoDAsync(dst, src, size, s);
    return r == CUDA_SUCCESS ? Status::Ok() : drv_.Error(r, "cuMemcpyDtoDAsync");
  }

  Status Memset(uint64_t dst, uint8_t value, uint64_t size, uint64_t stream) override {
    CUstream s = nullptr;
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

  Status UnloadModule(uint64_t module) override {
    auto it = libraries_.find(module);
    if (it == libraries_.end()) return Status(kInvalidResourceHandle, "unknown module");
    // Work already queued may still run its code.
    drv_.cuCtxSynchronize();
    // Its functions' handles stay taken (handles are indices) but dead, and
    // so are graphs that launch them: neither reaches the driver again.
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
    return r == CUDA_SUCCESS ? Status::Ok() : drv_.Error(r, "cuLibraryUnload");
  }

  // The live function behind a handle.
  Status FunctionOf(uint64_t handle, const FunctionEntry** f) const {
    if (handle == 0 || handle > functions_.size()) return Status(kInvalidResourceHandle, "unknown function");
    if (!functions_[handle - 1].live) return Status(kInvalidResourceHandle, "function of an unloaded module");
    *f = &functions_[handle - 1];
    return Status::Ok();
  }

  Status Launch(uint64_t function, Dim3 grid, Dim3 block, uint32_t shared_bytes, uint64_t stream,
                std::span<const uint8_t> params, const LaunchOptions& options) override {
    const FunctionEntry* entry = nullptr;
    RCUDA_RETURN_IF_ERROR(FunctionOf(function, &entry));
    CUstream s = nullptr;
    RCUDA_RETURN_IF_ERROR(StreamOf(stream, &s));
    const FunctionEntry& f = *entry;
    bool plain = !options.cooperative && options.cluster.x == 0 && !options.has_priority;
    if (plain) {
      size_t param_bytes = params.size();
      void* extra[] = {CU_LAUNCH_PARAM_BUFFER_POINTER, const_cast<uint8_t*>(params.data()),
                       CU_LAUNCH_PARAM_BUFFER_SIZE, &param_bytes, CU_LAUNCH_PARAM_END};
      CUresult r = drv_.cuLaunchKernel(f.function, grid.x, grid.y, grid.z, block.x, block.y, block.z, shared_bytes,
                                       s, nullptr, params.empty() ? nullptr : extra);
      return r == CUDA_SUCCESS ? Status::Ok() : drv_.Error(r, "cuLaunchKernel");
    }
    std::vector<void*> pointers;
    RCUDA_RETURN_IF_ERROR(ParamPointers(f, params, &pointers));
    CUlaunchAttribute attrs[3];
    unsigned n = 0;
    if (options.cooperative) {
      attrs[n].id = CU_LAUNCH_ATTRIBUTE_COOPERATIVE;
      attrs[n++].value.cooperative = 1;
    }
    if (options.cluster.x) {
      attrs[n].id = CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION;
      attrs[n].value.clusterDim.x = options.cluster.x;
      attrs[n].value.clusterDim.y = options.cluster.y;
      attrs[n++].value.clusterDim.z = options.cluster.z;
    }
    if (options.has_priority) {
      attrs[n].id = CU_LAUNCH_ATTRIBUTE_PRIORITY;
      attrs[n++].value.priority = options.priority;
    }
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
    CUresult r = drv_.cuLaunchKernelEx(&config, f.function, pointers.empty() ? nullptr : pointers.data(), nullptr);
    return r == CUDA_SUCCESS ? Status::Ok() : drv_.Error(r, "cuLaunchKernelEx");
  }

  Status Synchronize() override {
    CUresult r = drv_.cuCtxSynchronize();
    return r == CUDA_SUCCESS ? Status::Ok() : drv_.Error(r, "cuCtxSynchronize");
  }


  Status StreamPriorityRange(int32_t* least, int32_t* greatest) override {
    int l = 0, g = 0;
    RCUDA_RETURN_IF_ERROR(Check(drv_.cuCtxGetStreamPriorityRange(&l, &g), "cuCtxGetStreamPriorityRange"));
    *least = l;
    *greatest = g;
    return Status::Ok();
  }

  // The pieces of a strided copy, in packed order, each at most one staging
  // chunk: whole rows of one slice when a row fits, else parts of a row.
  // Walked one at a time: a copy of many short rows has billions of them.
  struct Piece {
    uint64_t z, y, x, rows, bytes_per_row;
    uint64_t bytes() const { return rows * bytes_per_row; }
  };
  class PieceCursor {
   public:
    explicit PieceCursor(const Copy3D& c) : c_(c) {}
    bool Next(Piece* p) {
      if (c_.width == 0 || c_.height == 0 || z_ >= c_.depth) return false;
      if (c_.width <= kStagingChunk) {
        uint64_t rows = std::min(std::max<uint64_t>(1, kStagingChunk / c_.width), c_.height - y_);
        *p = Piece{z_, y_, 0, rows, c_.width};
        y_ += rows;
      } else {
        uint64_t n = std::min<uint64_t>(kStagingChunk, c_.width - x_);
        *p = Piece{z_, y_, x_, 1, n};
        x_ += n;
        if (x_ < c_.width) return true;
        x_ = 0;
        ++y_;
      }
      if (y_ >= c_.height) {
        y_ = 0;
        ++z_;
      }
      return true;
    }

   private:
    const Copy3D& c_;
    uint64_t z_ = 0, y_ = 0, x_ = 0;
  };

  // A CUDA_MEMCPY3D for one piece between device memory (described by c's
  // dst or src side) and a packed host buffer.
  static CUDA_MEMCPY3D PieceCopy(const Copy3D& c, const Piece& p, void* host, bool to_device) {
    CUDA_MEMCPY3D m{};
    uint64_t pitch = to_device ? c.dst_pitch : c.src_pitch;
    uint64_t slice = to_device ? c.dst_height : c.src_height;
    uint64_t device = (to_device ? c.dst : c.src) + (p.z * slice + p.y) * pitch + p.x;
    if (to_device) {
      m.srcMemoryType = CU_MEMORYTYPE_HOST;
      m.srcHost = host;
      m.srcPitch = p.bytes_per_row;
      m.dstMemoryType = CU_MEMORYTYPE_DEVICE;
      m.dstDevice = device;
      m.dstPitch = pitch;
    } else {
      m.srcMemoryType = CU_MEMORYTYPE_DEVICE;
      m.srcDevice = device;
      m.srcPitch = pitch;
      m.dstMemoryType = CU_MEMORYTYPE_HOST;
      m.dstHost = host;
      m.dstPitch = p.bytes_per_row;
    }
    m.WidthInBytes = p.bytes_per_row;
    m.Height = p.rows;
    m.Depth = 1;
    return m;
  }

  Status CopyToDevice3D(const Copy3D& c, uint64_t stream, const ChunkReader& read) override {
    CUstream s = nullptr;
    RCUDA_RETURN_IF_ERROR(StreamOf(stream, &s));
    PieceCursor pieces(c);
    for (Piece p; pieces.Next(&p);) {
      Staging buf;
      RCUDA_RETURN_IF_ERROR(AcquireUpload(&buf));
      Status st = read(buf.host, p.bytes());
      CUresult r = CUDA_SUCCESS;
      if (st.ok()) {
        CUDA_MEMCPY3D m = PieceCopy(c, p, buf.host, true);
        r = drv_.cuMemcpy3DAsync(&m, s);
      }
      if (st.ok() && r == CUDA_SUCCESS) r = drv_.cuEventRecord(buf.event, s);
      upload_busy_.push_back(buf);
      RCUDA_RETURN_IF_ERROR(st);
      if (r != CUDA_SUCCESS) return drv_.Error(r, "copy to device");
    }
    return Status::Ok();
  }

  Status CopyFromDevice3D(const Copy3D& c, uint64_t stream, const ChunkWriter& write) override {
    CUstream s = nullptr;
    RCUDA_RETURN_IF_ERROR(StreamOf(stream, &s));
    for (auto& buf : staging_) RCUDA_RETURN_IF_ERROR(Check(drv_.cuEventSynchronize(buf.event), "copy from device"));
    PieceCursor pieces(c);
    std::array<Piece, kStagingBuffers> in_flight{};
    Piece next{};
    bool more = pieces.Next(&next);
    uint64_t issued = 0, written = 0;
    auto issue = [&]() -> Status {
      Staging& buf = staging_[issued % kStagingBuffers];
      CUDA_MEMCPY3D m = PieceCopy(c, next, buf.host, false);
      RCUDA_RETURN_IF_ERROR(Check(drv_.cuMemcpy3DAsync(&m, s), "cuMemcpy3DAsync"));
      RCUDA_RETURN_IF_ERROR(Check(drv_.cuEventRecord(buf.event, s), "cuEventRecord"));
      in_flight[issued % kStagingBuffers] = next;
      ++issued;
      more = pieces.Next(&next);
      return Status::Ok();
    };
    while (more && issued < static_cast<uint64_t>(kStagingBuffers)) RCUDA_RETURN_IF_ERROR(issue());
    while (written < issued) {
      Staging& buf = staging_[written % kStagingBuffers];
      RCUDA_RETURN_IF_ERROR(Check(drv_.cuEventSynchronize(buf.event), "cuMemcpy3DAsync"));
      RCUDA_RETURN_IF_ERROR(write(buf.host, in_flight[written % kStagingBuffers].bytes()));
      ++written;
      if (more) RCUDA_RETURN_IF_ERROR(issue());
    }
    return Status::Ok();
  }

  // The copy lands in pinned memory of the pool; a host function behind it
  // on the stream hands the bytes to the client, so that the program sees
  // them exactly when the stream has reached the copy. When the session's
  // host budget cannot hold it, the copy is delivered now, through the
  // staging buffers, once the stream has reached it: the session waits
  // (back-pressure) instead of pinning more.
  Status CopyFromDevice3DAsync(const Copy3D& c, uint64_t stream, uint64_t pending) override {
    CUstream s = nullptr;
    RCUDA_RETURN_IF_ERROR(StreamOf(stream, &s));
    if (!host_channel_) return Status(Status::kNotSupported, "no host channel");
    auto* delivery = new Delivery{this, nullptr, c.packed_bytes(), pending};
    delivery->buffer = delivery->size <= host_budget_.limit() ? pool_.Acquire(drv_, delivery->size) : nullptr;
    if (!delivery->buffer) {
      delete delivery;
      // The stream's earlier work first, host functions included: they need
      // the host channel, which the delivery holds while it copies.
      RCUDA_RETURN_IF_ERROR(Check(drv_.cuStreamSynchronize(s), "cuStreamSynchronize"));
      return host_channel_->DeliverToHostFrom(
          pending, c.packed_bytes(), [&](const ChunkWriter& write) { return CopyFromDevice3D(c, stream, write); });
    }
    uint64_t offset = 0;
    PieceCursor pieces(c);
    for (Piece p; pieces.Next(&p);) {
      CUDA_MEMCPY3D m = PieceCopy(c, p, static_cast<char*>(delivery->buffer) + offset, false);
      CUresult r = drv_.cuMemcpy3DAsync(&m, s);
      if (r != CUDA_SUCCESS) {
        pool_.Release(delivery->buffer);
        delete delivery;
        return drv_.Error(r, "cuMemcpy3DAsync");
      }
      offset += p.bytes();
    }
    CUresult r = drv_.cuLaunchHostFunc(s, &Delivery::Run, delivery);
    if (r != CUDA_SUCCESS) {
      // The copy may still be in flight: leak the buffer rather than reuse it.
      delete delivery;
      return drv_.Error(r, "cuLaunchHostFunc");
    }
    return Status::Ok();
  }

  Status CopyOnDevice3D(const Copy3D& c, uint64_t stream) override {
    CUstream s = nullptr;
    RCUDA_RETURN_IF_ERROR(StreamOf(stream, &s));
    CUDA_MEMCPY3D m = DeviceCopy(c);
    return Check(drv_.cuMemcpy3DAsync(&m, s), "cuMemcpy3DAsync");
  }

  static CUDA_MEMCPY3D DeviceCopy(const Copy3D& c) {
    CUDA_MEMCPY3D m{};
    m.srcMemoryType = CU_MEMORYTYPE_DEVICE;
    m.srcDevice = c.src;
    m.srcPitch = c.src_pitch;
    m.srcHeight = c.src_height;
    m.dstMemoryType = CU_MEMORYTYPE_DEVICE;
    m.dstDevice = c.dst;
    m.dstPitch = c.dst_pitch;
    m.dstHeight = c.dst_height;
    m.WidthInBytes = c.width;
    m.Height = c.height;
    m.Depth = c.depth;
    return m;
  }

  Status Memset3D(const Set3D& m, uint64_t stream) override {
    CUstream s = nullptr;
    RCUDA_RETURN_IF_ERROR(StreamOf(stream, &s));
    for (uint64_t z = 0; z < m.depth; ++z) {
      CUdeviceptr slice = m.dst + z * m.slice_height * m.pitch;
      uint64_t elements = m.width / m.element_size;
      CUresult r = m.element_size == 4   ? drv_.cuMemsetD2D32Async(slice, m.pitch, m.value, elements, m.height, s)
                   : m.element_size == 2 ? drv_.cuMemsetD2D16Async(slice, m.pitch, static_cast<uint16_t>(m.value),
                                                                   elements, m.height, s)
                                         : drv_.cuMemsetD2D8Async(slice, m.pitch, static_cast<uint8_t>(m.value),
                                                                  elements, m.height, s);
      RCUDA_RETURN_IF_ERROR(Check(r, "cuMemsetD2DAsync"));
    }
    return Status::Ok();
  }

  Status AllocatePitch(uint64_t width, uint64_t height, uint64_t* ptr, uint64_t* pitch) override {
    CUdeviceptr p = 0;
    size_t pt = 0;
    RCUDA_RETURN_IF_ERROR(Check(drv_.cuMemAllocPitch(&p, &pt, width, height, 16), "cuMemAllocPitch"));
    *ptr = p;
    *pitch = pt;
    return Status::Ok();
  }

  Status StreamCreate(uint32_t flags, int32_t priority, uint64_t* stream) override {
    CUstream s = nullptr;
    RCUDA_RETURN_IF_ERROR(Check(drv_.cuStreamCreateWithPriority(&s, flags, priority), "cuStreamCreateWithPriority"));
    *stream = ++next_handle_;
    streams_[*stream] = s;
    return Status::Ok();
  }

  Status StreamDestroy(uint64_t stream) override {
    auto it = streams_.find(stream);
    if (it == streams_.end()) return Status(kInvalidResourceHandle, "unknown stream");
    CUresult r = drv_.cuStreamDestroy(it->second);
    streams_.erase(it);
    return Check(r, "cuStreamDestroy");
  }

  Status StreamSynchronize(uint64_t stream) override {
    CUstream s = nullptr;
    RCUDA_RETURN_IF_ERROR(StreamOf(stream, &s));
    return Check(drv_.cuStreamSynchronize(s), "cuStreamSynchronize");
  }

  Status StreamQuery(uint64_t stream) override {
    CUstream s = nullptr;
    RCUDA_RETURN_IF_ERROR(StreamOf(stream, &s));
    return Check(drv_.cuStreamQuery(s), "cuStreamQuery");
  }

  Status StreamWaitEvent(uint64_t stream, uint64_t event, uint32_t flags) override {
    CUstream s = nullptr;
    CUevent e = nullptr;
    RCUDA_RETURN_IF_ERROR(StreamOf(stream, &s));
    RCUDA_RETURN_IF_ERROR(EventOf(event, &e));
    return Check(drv_.cuStreamWaitEvent(s, e, flags), "cuStreamWaitEvent");
  }

  Status EventCreate(uint32_t flags, uint64_t* event) override {
    CUevent e = nullptr;
    RCUDA_RETURN_IF_ERROR(Check(drv_.cuEventCreate(&e, flags), "cuEventCreate"));
    *event = ++next_handle_;
    events_[*event] = e;
    return Status::Ok();
  }

  Status EventDestroy(uint64_t event) override {
    auto it = events_.find(event);
    if (it == events_.end()) return Status(kInvalidResourceHandle, "unknown event");
    CUresult r = drv_.cuEventDestroy(it->second);
    events_.erase(it);
    return Check(r, "cuEventDestroy");
  }

  Status EventRecord(uint64_t event, uint64_t stream, uint32_t flags) override {
    CUstream s = nullptr;
    CUevent e = nullptr;
    RCUDA_RETURN_IF_ERROR(StreamOf(stream, &s));
    RCUDA_RETURN_IF_ERROR(EventOf(event, &e));
    return Check(drv_.cuEventRecordWithFlags(e, s, flags), "cuEventRecordWithFlags");
  }

  Status EventSynchronize(uint64_t event) override {
    CUevent e = nullptr;
    RCUDA_RETURN_IF_ERROR(EventOf(event, &e));
    return Check(drv_.cuEventSynchronize(e), "cuEventSynchronize");
  }

  Status EventQuery(uint64_t event) override {
    CUevent e = nullptr;
    RCUDA_RETURN_IF_ERROR(EventOf(event, &e));
    return Check(drv_.cuEventQuery(e), "cuEventQuery");
  }

  Status EventElapsedTime(uint64_t start, uint64_t end, float* ms) override {
    CUevent a = nullptr, b = nullptr;
    RCUDA_RETURN_IF_ERROR(EventOf(start, &a));
    RCUDA_RETURN_IF_ERROR(EventOf(end, &b));
    return Check(drv_.cuEventElapsedTime(ms, a, b), "cuEventElapsedTime");
  }

  Status LaunchHostFunction(uint64_t stream, uint64_t id) override {
    CUstream s = nullptr;
    RCUDA_RETURN_IF_ERROR(StreamOf(stream, &s));
    if (!host_channel_) return Status(Status::kNotSupported, "no host channel");
    auto* call = new HostCall{this, id, true};
    CUresult r = drv_.cuLaunchHostFunc(s, &HostCall::Run, call);
    if (r != CUDA_SUCCESS) delete call;
    return Check(r, "cuLaunchHostFunc");
  }

  // ---- Graphs ----------------------------------------------------------

  Status GraphInstantiate(const std::vector<GraphNodeSpec>& nodes, uint64_t* exec) override {
    auto g = std::make_unique<GraphExec>();
    RCUDA_RETURN_IF_ERROR(BuildGraph(nodes, g.get()));
    CUresult r = drv_.cuGraphInstantiateWithFlags(&g->exec, g->graph, 0);
    if (r != CUDA_SUCCESS) {
      drv_.cuGraphDestroy(g->graph);
      return drv_.Error(r, "cuGraphInstantiateWithFlags");
    }
    RCUDA_RETURN_IF_ERROR(Check(drv_.cuEventCreate(&g->last_launch, CU_EVENT_DISABLE_TIMING), "cuEventCreate"));
    *exec = ++next_handle_;
    graphs_[*exec] = std::move(g);
    return Status::Ok();
  }

  Status GraphLaunch(uint64_t exec, uint64_t stream, uint64_t input_bytes, const ChunkReader& read) override {
    auto it = graphs_.find(exec);
    if (it == graphs_.end()) return Status(kInvalidResourceHandle, "unknown graph exec");
    GraphExec& g = *it->second;
    if (g.dead) return Status(kInvalidResourceHandle, "the graph launches a function of an unloaded module");
    CUstream s = nullptr;
    RCUDA_RETURN_IF_ERROR(StreamOf(stream, &s));
    uint64_t expected = 0;
    for (const auto& in : g.inputs) expected += in.size;
    if (expected != input_bytes) return Status::InvalidValue("graph launch input size mismatch");
    if (!g.inputs.empty()) {
      // The staging of the previous launch must have been consumed.
      RCUDA_RETURN_IF_ERROR(Check(drv_.cuEventSynchronize(g.last_launch), "graph launch"));
      for (const auto& in : g.inputs) RCUDA_RETURN_IF_ERROR(read(in.buffer, in.size));
    }
    RCUDA_RETURN_IF_ERROR(Check(drv_.cuGraphLaunch(g.exec, s), "cuGraphLaunch"));
    return Check(drv_.cuEventRecord(g.last_launch, s), "cuEventRecord");
  }

  Status GraphExecDestroy(uint64_t exec) override {
    auto it = graphs_.find(exec);
    if (it == graphs_.end()) return Status(kInvalidResourceHandle, "unknown graph exec");
    GraphExec& g = *it->second;
    // Its host nodes' contexts and staging live until its launches are done.
    drv_.cuEventSynchronize(g.last_launch);
    drv_.cuGraphExecDestroy(g.exec);
    DestroyGraph(&g);
    drv_.cuEventDestroy(g.last_launch);
    graphs_.erase(it);
    return Status::Ok();
  }

  Status GraphExecKernelNodeSetParams(uint64_t exec, uint32_t node, const GraphNodeSpec& kernel) override {
    auto it = graphs_.find(exec);
    if (it == graphs_.end()) return Status(kInvalidResourceHandle, "unknown graph exec");
    GraphExec& g = *it->second;
    if (node >= g.nodes.size() || g.spec_types[node] != GraphNodeSpec::Type::kKernel) {
      return Status::InvalidValue("not a kernel node");
    }
    CUDA_KERNEL_NODE_PARAMS params;
    std::vector<void*> pointers;
    RCUDA_RETURN_IF_ERROR(KernelNodeParams(kernel, &params, &pointers));
    RCUDA_RETURN_IF_ERROR(Check(drv_.cuGraphExecKernelNodeSetParams(g.exec, g.nodes[node], &params),
                                "cuGraphExecKernelNodeSetParams"));
    g.modules.insert(functions_[kernel.function - 1].module);
    return Status::Ok();
  }

  Status GraphExecUpdate(uint64_t exec, const std::vector<GraphNodeSpec>& nodes) override {
    auto it = graphs_.find(exec);
    if (it == graphs_.end()) return Status(kInvalidResourceHandle, "unknown graph exec");
    GraphExec& g = *it->second;
    auto fresh = std::make_unique<GraphExec>();
    RCUDA_RETURN_IF_ERROR(BuildGraph(nodes, fresh.get()));
    RCUDA_RETURN_IF_ERROR(Check(drv_.cuEventSynchronize(g.last_launch), "graph update"));
    CUgraphExecUpdateResultInfo info{};
    CUresult r = drv_.cuGraphExecUpdate(g.exec, fresh->graph, &info);
    if (r != CUDA_SUCCESS) {
      DestroyGraph(fresh.get());
      return drv_.Error(r, "cuGraphExecUpdate");
    }
    // The exec now uses the fresh graph's staging and host contexts, which
    // stay alive with it; node handles stay the original graph's (the graph
    // the exec was instantiated from, which later per-node updates name).
    FreeStaging(&g.staging);
    g.staging = std::move(fresh->staging);
    g.modules = std::move(fresh->modules);
    g.inputs = std::move(fresh->inputs);
    g.deliveries = std::move(fresh->deliveries);
    g.host_calls = std::move(fresh->host_calls);
    drv_.cuGraphDestroy(fresh->graph);
    fresh->graph = nullptr;
    return Status::Ok();
  }

  Status Query(WaitTarget target, uint64_t handle) override {
    if (target == WaitTarget::kStream) return StreamQuery(handle);
    if (target == WaitTarget::kEvent) return EventQuery(handle);
    // The device: every stream, the legacy one included.
    RCUDA_RETURN_IF_ERROR(Check(drv_.cuStreamQuery(CU_STREAM_LEGACY), "cuStreamQuery"));
    for (const auto& [h, s] : streams_) RCUDA_RETURN_IF_ERROR(Check(drv_.cuStreamQuery(s), "cuStreamQuery"));
    return Status::Ok();
  }

  Status PrepareWait(WaitTarget target, uint64_t handle, std::function<Status()>* wait) override {
    // The returned wait runs on another thread: it captures driver handles,
    // never the executor's maps, and makes the context current there first.
    CudaDriver* drv = &drv_;
    CUcontext ctx = context_;
    if (target == WaitTarget::kStream) {
      CUstream s = nullptr;
      RCUDA_RETURN_IF_ERROR(StreamOf(handle, &s));
      *wait = [drv, ctx, s] {
        drv->cuCtxSetCurrent(ctx);
        CUresult r = drv->cuStreamSynchronize(s);
        return r == CUDA_SUCCESS ? Status::Ok() : drv->Error(r, "cuStreamSynchronize");
      };
    } else if (target == WaitTarget::kEvent) {
      CUevent e = nullptr;
      RCUDA_RETURN_IF_ERROR(EventOf(handle, &e));
      *wait = [drv, ctx, e] {
        drv->cuCtxSetCurrent(ctx);
        CUresult r = drv->cuEventSynchronize(e);
        return r == CUDA_SUCCESS ? Status::Ok() : drv->Error(r, "cuEventSynchronize");
      };
    } else {
      *wait = [drv, ctx] {
        drv->cuCtxSetCurrent(ctx);
        CUresult r = drv->cuCtxSynchronize();
        return r == CUDA_SUCCESS ? Status::Ok() : drv->Error(r, "cuCtxSynchronize");
      };
    }
    return Status::Ok();
  }

  Status Call(uint32_t op, std::span<const int64_t> args, std::vector<int64_t>* values) override {
    auto arg = [&](size_t i) { return i < args.size() ? args[i] : 0; };
    auto function = [&](CUfunction* f) -> Status {
      const FunctionEntry* entry = nullptr;
      RCUDA_RETURN_IF_ERROR(FunctionOf(static_cast<uint64_t>(arg(0)), &entry));
      *f = entry->function;
      return Status::Ok();
    };
    auto pool = [&](int64_t h, CUmemoryPool* p) -> Status {
      auto it = pools_.find(h);
      if (it == pools_.end()) return Status(kInvalidResourceHandle, "unknown memory pool");
      *p = it->second;
      return Status::Ok();
    };
    switch (static_cast<CallOp>(op)) {
      case CallOp::kDeviceGetLimit: {
        size_t v = 0;
        RCUDA_RETURN_IF_ERROR(Check(drv_.cuCtxGetLimit(&v, static_cast<CUlimit>(arg(0))), "cuCtxGetLimit"));
        values->push_back(static_cast<int64_t>(v));
        return Status::Ok();
      }
      case CallOp::kDeviceSetLimit:
        return Check(drv_.cuCtxSetLimit(static_cast<CUlimit>(arg(0)), static_cast<size_t>(arg(1))), "cuCtxSetLimit");
      case CallOp::kFuncSetAttribute: {
        CUfunction f = nullptr;
        RCUDA_RETURN_IF_ERROR(function(&f));
        return Check(drv_.cuFuncSetAttribute(f, static_cast<CUfunction_attribute>(arg(1)), static_cast<int>(arg(2))),
                     "cuFuncSetAttribute");
      }
      case CallOp::kFuncSetCacheConfig: {
        CUfunction f = nullptr;
        RCUDA_RETURN_IF_ERROR(function(&f));
        return Check(drv_.cuFuncSetCacheConfig(f, static_cast<CUfunc_cache>(arg(1))), "cuFuncSetCacheConfig");
      }
      case CallOp::kOccupancyMaxActiveBlocks: {
        CUfunction f = nullptr;
        RCUDA_RETURN_IF_ERROR(function(&f));
        int blocks = 0;
        RCUDA_RETURN_IF_ERROR(Check(drv_.cuOccupancyMaxActiveBlocksPerMultiprocessorWithFlags(
                                        &blocks, f, static_cast<int>(arg(1)), static_cast<size_t>(arg(2)),
                                        static_cast<unsigned>(arg(3))),
                                    "cuOccupancyMaxActiveBlocksPerMultiprocessorWithFlags"));
        values->push_back(blocks);
        return Status::Ok();
      }
      case CallOp::kOccupancyAvailableDynamicSMem: {
        CUfunction f = nullptr;
        RCUDA_RETURN_IF_ERROR(function(&f));
        size_t bytes = 0;
        RCUDA_RETURN_IF_ERROR(Check(drv_.cuOccupancyAvailableDynamicSMemPerBlock(&bytes, f, static_cast<int>(arg(1)),
                                                                                 static_cast<int>(arg(2))),
                                    "cuOccupancyAvailableDynamicSMemPerBlock"));
        values->push_back(static_cast<int64_t>(bytes));
        return Status::Ok();
      }
      case CallOp::kMemPoolCreate: {
        CUmemPoolProps props{};
        props.allocType = static_cast<CUmemAllocationType>(arg(2));
        props.handleTypes = static_cast<CUmemAllocationHandleType>(arg(3));
        props.location.type = static_cast<CUmemLocationType>(arg(0));
        props.location.id = static_cast<int>(arg(1));
        CUmemoryPool p = nullptr;
        RCUDA_RETURN_IF_ERROR(Check(drv_.cuMemPoolCreate(&p, &props), "cuMemPoolCreate"));
        values->push_back(PoolHandle(p));
        return Status::Ok();
      }
      case CallOp::kMemPoolDestroy: {
        CUmemoryPool p = nullptr;
        RCUDA_RETURN_IF_ERROR(pool(arg(0), &p));
        pools_.erase(arg(0));
        return Check(drv_.cuMemPoolDestroy(p), "cuMemPoolDestroy");
      }
      case CallOp::kMemPoolSetAttribute: {
        CUmemoryPool p = nullptr;
        RCUDA_RETURN_IF_ERROR(pool(arg(0), &p));
        // Threshold and counters are 64-bit, the reuse flags int.
        auto attr = static_cast<CUmemPool_attribute>(arg(1));
        cuuint64_t v64 = static_cast<cuuint64_t>(arg(2));
        int v32 = static_cast<int>(arg(2));
        bool wide = attr >= CU_MEMPOOL_ATTR_RELEASE_THRESHOLD;
        return Check(drv_.cuMemPoolSetAttribute(p, attr, wide ? static_cast<void*>(&v64) : &v32),
                     "cuMemPoolSetAttribute");
      }
      case CallOp::kMemPoolGetAttribute: {
        CUmemoryPool p = nullptr;
        RCUDA_RETURN_IF_ERROR(pool(arg(0), &p));
        auto attr = static_cast<CUmemPool_attribute>(arg(1));
        cuuint64_t v64 = 0;
        int v32 = 0;
        bool wide = attr >= CU_MEMPOOL_ATTR_RELEASE_THRESHOLD;
        RCUDA_RETURN_IF_ERROR(Check(drv_.cuMemPoolGetAttribute(p, attr, wide ? static_cast<void*>(&v64) : &v32),
                                    "cuMemPoolGetAttribute"));
        values->push_back(wide ? static_cast<int64_t>(v64) : v32);
        return Status::Ok();
      }
      case CallOp::kMemPoolTrimTo: {
        CUmemoryPool p = nullptr;
        RCUDA_RETURN_IF_ERROR(pool(arg(0), &p));
        return Check(drv_.cuMemPoolTrimTo(p, static_cast<size_t>(arg(1))), "cuMemPoolTrimTo");
      }
      case CallOp::kDeviceGetDefaultMemPool:
      case CallOp::kDeviceGetMemPool: {
        CUmemoryPool p = nullptr;
        CUresult r = static_cast<CallOp>(op) == CallOp::kDeviceGetDefaultMemPool
                         ? drv_.cuDeviceGetDefaultMemPool(&p, device_)
                         : drv_.cuDeviceGetMemPool(&p, device_);
        RCUDA_RETURN_IF_ERROR(Check(r, "cuDeviceGetMemPool"));
        values->push_back(PoolHandle(p));
        return Status::Ok();
      }
      case CallOp::kDeviceSetMemPool: {
        CUmemoryPool p = nullptr;
        RCUDA_RETURN_IF_ERROR(pool(arg(0), &p));
        return Check(drv_.cuDeviceSetMemPool(device_, p), "cuDeviceSetMemPool");
      }
      case CallOp::kMallocAsync: {
        CUstream s = nullptr;
        RCUDA_RETURN_IF_ERROR(StreamOf(static_cast<uint64_t>(arg(1)), &s));
        CUmemoryPool p = nullptr;
        if (arg(2) == 0) {
          RCUDA_RETURN_IF_ERROR(Check(drv_.cuDeviceGetMemPool(&p, device_), "cuDeviceGetMemPool"));
        } else {
          RCUDA_RETURN_IF_ERROR(pool(arg(2), &p));
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
        return Check(drv_.cuMemFreeAsync(static_cast<CUdeviceptr>(arg(0)), s), "cuMemFreeAsync");
      }
      case CallOp::kDeviceSetCacheConfig:
        return Check(drv_.cuCtxSetCacheConfig(static_cast<CUfunc_cache>(arg(0))), "cuCtxSetCacheConfig");
      case CallOp::kDeviceGetCacheConfig: {
        CUfunc_cache c;
        RCUDA_RETURN_IF_ERROR(Check(drv_.cuCtxGetCacheConfig(&c), "cuCtxGetCacheConfig"));
        values->push_back(c);
        return Status::Ok();
      }
      case CallOp::kOccupancyMaxPotentialClusterSize:
      case CallOp::kOccupancyMaxActiveClusters: {
        CUfunction f = nullptr;
        RCUDA_RETURN_IF_ERROR(function(&f));
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
        CUresult r = static_cast<CallOp>(op) == CallOp::kOccupancyMaxPotentialClusterSize
                         ? drv_.cuOccupancyMaxPotentialClusterSize(&result, f, &config)
                         : drv_.cuOccupancyMaxActiveClusters(&result, f, &config);
        RCUDA_RETURN_IF_ERROR(Check(r, "cuOccupancyMaxCluster*"));
        values->push_back(result);
        return Status::Ok();
      }
      case CallOp::kStreamGetInfo: {
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
    }
    return Status(Status::kNotSupported, "call " + std::to_string(op) + " is not supported by this server");
  }

 private:
  // Pinned host buffers for asynchronous device-to-host copies, reused;
  // Release may run on a driver thread. What it pins counts against the
  // session's host budget: past it, free buffers too small are given back
  // first, then Acquire fails and the caller takes a path that needs none.
  class PinnedPool {
   public:
    explicit PinnedPool(HostBudget* budget) : budget_(budget) {}
    void* Acquire(CudaDriver& drv, size_t size) {
      size_t rounded = std::max<size_t>(size, 1 << 16);
      std::vector<std::pair<void*, size_t>> unused;
      bool taken = false;
      {
        std::lock_guard lock(mu_);
        for (size_t i = 0; i < free_.size(); ++i) {
          if (free_[i].second >= size) {
            void* p = free_[i].first;
            sizes_[p] = free_[i].second;
            free_.erase(free_.begin() + i);
            return p;
          }
        }
        taken = budget_->Take(rounded);
        if (!taken) unused.swap(free_);  // none of them fits: make room
      }
      if (!taken) {
        for (auto& [p, bytes] : unused) {
          drv.cuMemFreeHost(p);
          budget_->Give(bytes);
        }
        if (!budget_->Take(rounded)) return nullptr;
      }
      void* p = nullptr;
      if (drv.cuMemHostAlloc(&p, rounded, 0) != CUDA_SUCCESS) {
        budget_->Give(rounded);
        return nullptr;
      }
      std::lock_guard lock(mu_);
      sizes_[p] = rounded;
      return p;
    }
    void Release(void* p) {
      std::lock_guard lock(mu_);
      free_.emplace_back(p, sizes_[p]);
      sizes_.erase(p);
    }
    void FreeAll(CudaDriver& drv) {
      std::lock_guard lock(mu_);
      for (auto& [p, size] : free_) {
        drv.cuMemFreeHost(p);
        budget_->Give(size);
      }
      free_.clear();
    }

   private:
    HostBudget* budget_;
    std::mutex mu_;
    std::vector<std::pair<void*, size_t>> free_;
    std::unordered_map<void*, size_t> sizes_;
  };

  struct Delivery {
    CudaExecutor* executor;
    void* buffer;
    size_t size;
    uint64_t pending;
    static void CUDA_CB Run(void* data) {
      auto* d = static_cast<Delivery*>(data);
      Status s = d->executor->host_channel_->DeliverToHost(d->pending, d->buffer, d->size);
      if (!s.ok()) spdlog::warn("delivering an asynchronous copy to the client failed: {}", s.message());
      d->executor->pool_.Release(d->buffer);
      delete d;
    }
  };

  struct HostCall {
    CudaExecutor* executor;
    uint64_t id;
    bool once;  // launched with cuLaunchHostFunc: delete after running
    static void CUDA_CB Run(void* data) {
      auto* h = static_cast<HostCall*>(data);
      Status s = h->executor->host_channel_->RunHostFunction(h->id);
      if (!s.ok()) spdlog::warn("running a host function on the client failed: {}", s.message());
      if (h->once) delete h;
    }
  };

  // A graph's delivery node: hands its staging to the client each launch.
  struct GraphDelivery {
    CudaExecutor* executor;
    void* buffer;
    size_t size;
    uint64_t pending;
    static void CUDA_CB Run(void* data) {
      auto* d = static_cast<GraphDelivery*>(data);
      Status s = d->executor->host_channel_->DeliverToHost(d->pending, d->buffer, d->size);
      if (!s.ok()) spdlog::warn("delivering graph output to the client failed: {}", s.message());
    }
  };

  struct GraphInput {
    void* buffer;
    size_t size;
  };

  struct GraphExec {
    CUgraph graph = nullptr;
    CUgraphExec exec = nullptr;
    CUevent last_launch = nullptr;
    std::vector<CUgraphNode> nodes;  // by spec index
    std::vector<GraphNodeSpec::Type> spec_types;
    std::vector<GraphInput> inputs;  // host-to-device staging, in node order
    std::vector<std::unique_ptr<GraphDelivery>> deliveries;
    std::vector<std::unique_ptr<HostCall>> host_calls;
    std::vector<std::pair<void*, size_t>> staging;  // pinned buffers owned by the graph
    std::set<uint64_t> modules;  // of its kernels
    bool dead = false;           // one of them was unloaded
  };

  Status KernelNodeParams(const GraphNodeSpec& n, CUDA_KERNEL_NODE_PARAMS* p, std::vector<void*>* pointers) {
    const FunctionEntry* entry = nullptr;
    RCUDA_RETURN_IF_ERROR(FunctionOf(n.function, &entry));
    const FunctionEntry& f = *entry;
    RCUDA_RETURN_IF_ERROR(ParamPointers(f, n.params, pointers));
    std::memset(p, 0, sizeof *p);
    p->func = f.function;
    p->gridDimX = n.grid.x;
    p->gridDimY = n.grid.y;
    p->gridDimZ = n.grid.z;
    p->blockDimX = n.block.x;
    p->blockDimY = n.block.y;
    p->blockDimZ = n.block.z;
    p->sharedMemBytes = n.shared_bytes;
    p->kernelParams = pointers->empty() ? nullptr : pointers->data();
    return Status::Ok();
  }

  // Graph staging counts against the session's host budget.
  void* AllocateStaging(GraphExec* g, size_t size) {
    size = std::max<size_t>(size, 1);
    if (!host_budget_.Take(size)) return nullptr;
    void* p = nullptr;
    if (drv_.cuMemHostAlloc(&p, size, 0) != CUDA_SUCCESS) {
      host_budget_.Give(size);
      return nullptr;
    }
    g->staging.emplace_back(p, size);
    return p;
  }

  void FreeStaging(std::vector<std::pair<void*, size_t>>* staging) {
    for (auto& [p, size] : *staging) {
      drv_.cuMemFreeHost(p);
      host_budget_.Give(size);
    }
    staging->clear();
  }

  void DestroyGraph(GraphExec* g) {
    if (g->graph) drv_.cuGraphDestroy(g->graph);
    g->graph = nullptr;
    FreeStaging(&g->staging);
    g->deliveries.clear();
    g->host_calls.clear();
    g->inputs.clear();
  }

  // Builds the driver graph of `specs`. A device-to-host copy lands in
  // staging owned by the graph and is followed by a host node that hands it
  // to the client; nodes that depended on the copy depend on that host node.
  Status BuildGraph(const std::vector<GraphNodeSpec>& specs, GraphExec* g) {
    RCUDA_RETURN_IF_ERROR(Check(drv_.cuGraphCreate(&g->graph, 0), "cuGraphCreate"));
    std::vector<CUgraphNode> tail(specs.size());
    for (size_t i = 0; i < specs.size(); ++i) {
      const GraphNodeSpec& n = specs[i];
      std::vector<CUgraphNode> deps;
      for (uint32_t d : n.dependencies) {
        if (d >= i) {
          DestroyGraph(g);
          return Status::InvalidValue("graph dependency on a later node");
        }
        deps.push_back(tail[d]);
      }
      CUgraphNode node = nullptr;
      CUresult r = CUDA_SUCCESS;
      switch (n.type) {
        case GraphNodeSpec::Type::kEmpty:
          r = drv_.cuGraphAddEmptyNode(&node, g->graph, deps.data(), deps.size());
          break;
        case GraphNodeSpec::Type::kKernel: {
          CUDA_KERNEL_NODE_PARAMS p;
          std::vector<void*> pointers;
          Status s = KernelNodeParams(n, &p, &pointers);
          if (!s.ok()) {
            DestroyGraph(g);
            return s;
          }
          g->modules.insert(functions_[n.function - 1].module);
          r = drv_.cuGraphAddKernelNode(&node, g->graph, deps.data(), deps.size(), &p);
          break;
        }
        case GraphNodeSpec::Type::kMemcpy: {
          CUDA_MEMCPY3D m;
          if (n.direction == GraphNodeSpec::Direction::kDeviceToDevice) {
            m = DeviceCopy(n.copy);
          } else {
            void* staging = AllocateStaging(g, n.copy.packed_bytes());
            if (!staging) {
              DestroyGraph(g);
              return Status::OutOfMemory("cannot allocate pinned staging for a graph (the session's host staging is " +
                                         std::to_string(host_budget_.limit()) + " bytes)");
            }
            m = DeviceCopy(n.copy);
            if (n.direction == GraphNodeSpec::Direction::kHostToDevice) {
              m.srcMemoryType = CU_MEMORYTYPE_HOST;
              m.srcHost = staging;
              m.srcPitch = n.copy.width;
              m.srcHeight = n.copy.height;
              g->inputs.push_back(GraphInput{staging, n.copy.packed_bytes()});
            } else {
              m.dstMemoryType = CU_MEMORYTYPE_HOST;
              m.dstHost = staging;
              m.dstPitch = n.copy.width;
              m.dstHeight = n.copy.height;
            }
          }
          r = drv_.cuGraphAddMemcpyNode(&node, g->graph, deps.data(), deps.size(), &m, context_);
          if (r == CUDA_SUCCESS && n.direction == GraphNodeSpec::Direction::kDeviceToHost) {
            g->nodes.resize(specs.size());
            g->nodes[i] = node;
            auto d = std::make_unique<GraphDelivery>(
                GraphDelivery{this, g->staging.back().first, n.copy.packed_bytes(), n.pending});
            CUDA_HOST_NODE_PARAMS h{&GraphDelivery::Run, d.get()};
            g->deliveries.push_back(std::move(d));
            CUgraphNode delivery;
            r = drv_.cuGraphAddHostNode(&delivery, g->graph, &node, 1, &h);
            tail[i] = delivery;
            g->spec_types.resize(specs.size());
            g->spec_types[i] = n.type;
            if (r != CUDA_SUCCESS) {
              DestroyGraph(g);
              return drv_.Error(r, "cuGraphAddHostNode");
            }
            continue;
          }
          break;
        }
        case GraphNodeSpec::Type::kMemset: {
          if (n.set.depth != 1) {
            DestroyGraph(g);
            return Status(Status::kNotSupported, "3D memset nodes are not supported");
          }
          CUDA_MEMSET_NODE_PARAMS p{};
          p.dst = n.set.dst;
          p.pitch = n.set.pitch;
          p.value = n.set.value;
          p.elementSize = n.set.element_size;
          p.width = n.set.width / n.set.element_size;
          p.height = n.set.height;
          r = drv_.cuGraphAddMemsetNode(&node, g->graph, deps.data(), deps.size(), &p, context_);
          break;
        }
        case GraphNodeSpec::Type::kHost: {
          auto call = std::make_unique<HostCall>(HostCall{this, n.host_id, false});
          CUDA_HOST_NODE_PARAMS h{&HostCall::Run, call.get()};
          g->host_calls.push_back(std::move(call));
          r = drv_.cuGraphAddHostNode(&node, g->graph, deps.data(), deps.size(), &h);
          break;
        }
        case GraphNodeSpec::Type::kEventRecord:
        case GraphNodeSpec::Type::kEventWait: {
          CUevent e = nullptr;
          Status s = EventOf(n.event, &e);
          if (!s.ok()) {
            DestroyGraph(g);
            return s;
          }
          r = n.type == GraphNodeSpec::Type::kEventRecord
                  ? drv_.cuGraphAddEventRecordNode(&node, g->graph, deps.data(), deps.size(), e)
                  : drv_.cuGraphAddEventWaitNode(&node, g->graph, deps.data(), deps.size(), e);
          break;
        }
      }
      if (r != CUDA_SUCCESS) {
        DestroyGraph(g);
        return drv_.Error(r, "building a graph");
      }
      g->nodes.resize(specs.size());
      g->spec_types.resize(specs.size());
      g->nodes[i] = node;
      g->spec_types[i] = n.type;
      tail[i] = node;
    }
    return Status::Ok();
  }

  int64_t PoolHandle(CUmemoryPool p) {
    for (const auto& [h, q] : pools_)
      if (q == p) return h;
    int64_t h = static_cast<int64_t>(++next_handle_);
    pools_[h] = p;
    return h;
  }

  struct Staging {
    void* host = nullptr;
    CUevent event = nullptr;
  };

  Status StreamOf(uint64_t handle, CUstream* stream) {
    if (handle == kLegacyStream) {
      *stream = CU_STREAM_LEGACY;
      return Status::Ok();
    }
    auto it = streams_.find(handle);
    if (it == streams_.end()) return Status(kInvalidResourceHandle, "unknown stream");
    *stream = it->second;
    return Status::Ok();
  }

  Status EventOf(uint64_t handle, CUevent* event) {
    auto it = events_.find(handle);
    if (it == events_.end()) return Status(kInvalidResourceHandle, "unknown event");
    *event = it->second;
    return Status::Ok();
  }

  // Pointers to each parameter inside a packed buffer, for the driver calls
  // that take kernelParams.
  Status ParamPointers(const FunctionEntry& f, std::span<const uint8_t> params, std::vector<void*>* pointers) {
    pointers->clear();
    for (const auto& p : f.params) {
      if (p.offset + p.size > params.size()) return Status::InvalidValue("kernel parameter buffer too short");
      pointers->push_back(const_cast<uint8_t*>(params.data()) + p.offset);
    }
    return Status::Ok();
  }

  Status Check(CUresult r, const char* what) { return r == CUDA_SUCCESS ? Status::Ok() : drv_.Error(r, what); }

  // Staging for host-to-device copies: pinned chunks, each free again once
  // the copy that reads it has run (its event). The pool grows, up to
  // kUploadChunks, so that asynchronous uploads behind a busy stream do not
  // stop the session; at the limit it waits for the oldest chunk.
  Status AcquireUpload(Staging* out) {
    while (!upload_busy_.empty()) {
      CUresult r = drv_.cuEventQuery(upload_busy_.front().event);
      if (r == CUDA_ERROR_NOT_READY) break;
      if (r != CUDA_SUCCESS) return drv_.Error(r, "copy to device");
      upload_free_.push_back(upload_busy_.front());
      upload_busy_.pop_front();
    }
    if (!upload_free_.empty()) {
      *out = upload_free_.back();
      upload_free_.pop_back();
      return Status::Ok();
    }
    if (upload_count_ < kUploadChunks) {
      Staging buf;
      CUresult r = drv_.cuMemHostAlloc(&buf.host, kStagingChunk, 0);
      if (r != CUDA_SUCCESS) return drv_.Error(r, "cuMemHostAlloc");
      if ((r = drv_.cuEventCreate(&buf.event, CU_EVENT_DISABLE_TIMING)) != CUDA_SUCCESS) {
        drv_.cuMemFreeHost(buf.host);
        return drv_.Error(r, "cuEventCreate");
      }
      ++upload_count_;
      *out = buf;
      return Status::Ok();
    }
    *out = upload_busy_.front();
    upload_busy_.pop_front();
    return Check(drv_.cuEventSynchronize(out->event), "copy to device");
  }

  ExecutorOptions options_;
  CudaDriver drv_;
  CUdevice device_ = 0;
  CUcontext context_ = nullptr;
  std::array<Staging, kStagingBuffers> staging_;  // device-to-host copies
  std::vector<Staging> upload_free_;              // host-to-device copies
  std::deque<Staging> upload_busy_;
  size_t upload_count_ = 0;
  std::unordered_map<uint64_t, CUlibrary> libraries_;
  std::vector<FunctionEntry> functions_;
  uint64_t next_module_ = 0;
  uint64_t next_handle_ = 0x1000;
  std::unordered_map<uint64_t, CUstream> streams_;
  std::unordered_map<uint64_t, CUevent> events_;
  std::unordered_map<uint64_t, std::unique_ptr<GraphExec>> graphs_;
  std::unordered_map<int64_t, CUmemoryPool> pools_;
  HostBudget host_budget_;
  PinnedPool pool_;
};

}  // namespace

std::unique_ptr<Executor> NewCudaExecutor(const ExecutorOptions& options) {
  return std::make_unique<CudaExecutor>(options);
}

}  // namespace rcuda
