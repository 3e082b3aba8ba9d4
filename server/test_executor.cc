// TEST EQUIPMENT: an Executor without a GPU.
//
// "Device" memory is host memory of the worker process; kernels are host
// functions that plugins register by mangled name (server/test_kernel_api.h);
// parameter layouts come from the cubin. Everything runs synchronously, in
// order. It describes itself as a test device so that no result can be
// mistaken for a GPU's.
#include "server/test_executor.h"

#include <dlfcn.h>
#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <mutex>
#include <spdlog/spdlog.h>
#include <unordered_map>

#include "common/allocation_table.h"
#include "protocol/call_ops.h"
#include "server/device_props.h"
#include "server/host_budget.h"
#include "server/test_kernel_api.h"

namespace rcuda {
namespace {

constexpr int kInvalidDeviceFunction = 98;  // cudaErrorInvalidDeviceFunction
constexpr int kInvalidResourceHandle = 400;  // cudaErrorInvalidResourceHandle
constexpr uint32_t kTestArch = 90;

// Kernels registered by all loaded plugins, by mangled name.
std::unordered_map<std::string, rcuda_test_kernel_fn>& KernelRegistry() {
  static std::unordered_map<std::string, rcuda_test_kernel_fn> registry;
  return registry;
}

extern "C" void RegisterTestKernel(const char* name, rcuda_test_kernel_fn fn) { KernelRegistry()[name] = fn; }

class TestExecutor final : public Executor {
 public:
  explicit TestExecutor(const ExecutorOptions& options) : options_(options), host_budget_(options.host_staging_bytes) {}

  ~TestExecutor() override {
    for (auto& [base, size] : mappings_) munmap(reinterpret_cast<void*>(base), MapSize(size));
  }

  Status Open(int gpu) override {
    if (gpu != 0) return Status(101, "TEST BACKEND has one device (0); GPU " + std::to_string(gpu) + " requested");
    for (const auto& path : options_.test_kernel_plugins) {
      void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (!handle) return Status::InvalidValue("cannot load test kernel plugin " + path + ": " + dlerror());
      auto init = reinterpret_cast<rcuda_test_kernels_init_fn>(dlsym(handle, "rcuda_test_kernels_init"));
      if (!init) return Status::InvalidValue("test kernel plugin " + path + " lacks rcuda_test_kernels_init");
      init(&RegisterTestKernel);
    }
    spdlog::info("TEST BACKEND: host memory and host kernels, not a GPU ({} kernels registered)",
                 KernelRegistry().size());
    return Status::Ok();
  }

  Status Describe(DeviceDescription* d) override {
    std::vector<int32_t> a(kDeviceAttributeSlots, 0);
    auto set = [&](int attr, int value) { a[attr] = value; };
    // Plausible limits, so that programs which size their launches from the
    // device properties behave as on a small Hopper-class GPU.
    set(1, 1024); set(2, 1024); set(3, 1024); set(4, 64);
    set(5, 2147483647); set(6, 65535); set(7, 65535);
    set(8, 48 << 10); set(9, 64 << 10); set(10, 32); set(11, 2147483647); set(12, 65536);
    set(13, 1000000); set(14, 512); set(15, 1); set(16, 4); set(19, 0); set(31, 1);
    set(33, 0); set(34, 0); set(36, 1000000); set(37, 64); set(38, 4 << 20); set(39, 2048);
    set(40, 1); set(41, 1); set(50, 0); set(51, 32); set(75, 9); set(76, 0); set(78, 1);
    set(79, 1); set(80, 1); set(81, 228 << 10); set(82, 65536); set(83, 0);
    set(95, 1); set(97, 227 << 10); set(99, 1); set(106, 32); set(111, 1024); set(115, 1);
    uint8_t uuid[16] = {'r', 'c', 'u', 'd', 'a', '-', 't', 'e', 's', 't'};
    d->name = "rcuda TEST device (host memory, not a GPU)";
    d->attributes = a;
    d->props = BuildDeviceProp(a, d->name, uuid, options_.test_memory_bytes);
    d->driver_version = 13000;
    d->backend = "test";
    d->test_device = true;
    d->arch = kTestArch;
    d->total_memory = options_.test_memory_bytes;
    return Status::Ok();
  }

  Status Allocate(uint64_t size, uint64_t* ptr) override {
    if (size > options_.test_memory_bytes - std::min(used_, options_.test_memory_bytes)) {
      return Status::OutOfMemory("TEST BACKEND: out of its " + std::to_string(options_.test_memory_bytes) + " bytes");
    }
    void* p = mmap(nullptr, MapSize(size), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return Status::OutOfMemory("TEST BACKEND: mmap failed");
    *ptr = reinterpret_cast<uint64_t>(p);
    mappings_[*ptr] = size;
    table_.Add(*ptr, size, AllocationTable::Kind::kMalloc);
    used_ += size;
    return Status::Ok();
  }

  Status Free(uint64_t ptr) override {
    auto it = mappings_.find(ptr);
    if (it == mappings_.end()) return Status::InvalidValue("TEST BACKEND: free of unknown pointer");
    munmap(reinterpret_cast<void*>(ptr), MapSize(it->second));
    used_ -= it->second;
    table_.RemoveMalloc(ptr);
    mappings_.erase(it);
    return Status::Ok();
  }

  Status MemGetInfo(uint64_t* free, uint64_t* total) override {
    *total = options_.test_memory_bytes;
    *free = options_.test_memory_bytes - std::min(used_, options_.test_memory_bytes);
    return Status::Ok();
  }

  Status CopyToDevice(uint64_t dst, uint64_t size, uint64_t, const ChunkReader& read) override {
    // The payload lands directly in the "device" memory.
    return read(reinterpret_cast<void*>(dst), size);
  }

  Status CopyFromDevice(uint64_t src, uint64_t size, uint64_t, const ChunkWriter& write) override {
    return write(reinterpret_cast<const void*>(src), size);
  }

  Status CopyOnDevice(uint64_t dst, uint64_t src, uint64_t size, uint64_t) override {
    std::memmove(reinterpret_cast<void*>(dst), reinterpret_cast<const void*>(src), size);
    return Status::Ok();
  }

  Status Memset(uint64_t dst, uint8_t value, uint64_t size, uint64_t) override {
    std::memset(reinterpret_cast<void*>(dst), value, size);
    return Status::Ok();
  }

  Status LoadModule(std::string_view fatbin, const std::vector<std::string>& functions,
                    const std::vector<std::string>& variables, uint64_t* module,
                    ModuleDescription* description) override {
    auto m = std::make_unique<Module>();
    RCUDA_RETURN_IF_ERROR(LoadModuleImage(fatbin, kTestArch, &m->image));
    for (const auto& var : m->image.variables) {
      auto storage = std::make_unique<std::vector<uint8_t>>(std::max<uint64_t>(var.size, 1), 0);
      std::memcpy(storage->data(), var.init.data(), std::min<size_t>(var.init.size(), var.size));
      table_.Add(reinterpret_cast<uint64_t>(storage->data()), var.size, AllocationTable::Kind::kVariable);
      m->variables[var.name] = std::move(storage);
    }
    description->functions.clear();
    description->variables.clear();
    for (const auto& name : functions) {
      FunctionDescription fd;
      if (const CubinKernel* kernel = m->image.FindKernel(name)) {
        fd.found = true;
        fd.params = kernel->params;
        fd.max_threads_per_block = kernel->max_threads ? static_cast<int32_t>(kernel->max_threads) : 1024;
        fd.binary_version = kTestArch;
        fd.ptx_version = kTestArch;
        fd.shared_size_bytes = static_cast<int32_t>(kernel->static_shared_bytes);
        fd.num_regs = static_cast<int32_t>(kernel->registers);
        fd.max_dynamic_shared_size_bytes = (48 << 10) - fd.shared_size_bytes;
        functions_.push_back(Function{m.get(), name, kernel->params, kernel->static_shared_bytes, true});
        fd.handle = functions_.size();  // 1-based, so 0 is never valid
      }
      description->functions.push_back(std::move(fd));
    }
    for (const auto& name : variables) {
      VariableDescription vd;
      auto it = m->variables.find(name);
      if (it != m->variables.end()) {
        const CubinVariable* var = m->image.FindVariable(name);
        vd.found = true;
        vd.address = reinterpret_cast<uint64_t>(it->second->data());
        vd.size = var->size;
      }
      description->variables.push_back(vd);
    }
    modules_.push_back(std::move(m));
    *module = modules_.size();
    return Status::Ok();
  }

  Status UnloadModule(uint64_t module) override {
    // Functions keep pointers into their module: its memory stays until the
    // session ends (unloading is rare), but its functions and variables are
    // gone for the session from now on.
    if (module == 0 || module > modules_.size() || modules_[module - 1]->unloaded) {
      return Status(kInvalidResourceHandle, "unknown module");
    }
    Module* m = modules_[module - 1].get();
    m->unloaded = true;
    for (auto& f : functions_)
      if (f.module == m) f.live = false;
    for (auto& [name, storage] : m->variables) table_.RemoveVariable(reinterpret_cast<uint64_t>(storage->data()));
    return Status::Ok();
  }

  Status Launch(uint64_t function, Dim3 grid, Dim3 block, uint32_t shared_bytes, uint64_t stream,
                std::span<const uint8_t> params, const LaunchOptions& options) override {
    RCUDA_RETURN_IF_ERROR(CheckStream(stream));
    if (options.cooperative && function > 0 && function <= functions_.size()) {
      int64_t fits = MaxActiveBlocks(functions_[function - 1].static_shared, int64_t(block.x) * block.y * block.z, shared_bytes) * 4;
      if (int64_t(grid.x) * grid.y * grid.z > fits) return Status(720, "cooperative grid too large");
    }
    if (function == 0 || function > functions_.size()) {
      return Status(kInvalidResourceHandle, "TEST BACKEND: unknown function handle");
    }
    const Function& f = functions_[function - 1];
    if (!f.live) return Status(kInvalidResourceHandle, "TEST BACKEND: function of an unloaded module");
    auto it = KernelRegistry().find(f.name);
    if (it == KernelRegistry().end()) {
      return Status(kInvalidDeviceFunction, "TEST BACKEND: no host implementation registered for kernel " + f.name);
    }
    std::vector<uint32_t> offsets, sizes;
    for (const auto& p : f.params) {
      if (p.offset + p.size > params.size()) {
        return Status::InvalidValue("TEST BACKEND: parameter buffer too short for " + f.name);
      }
      offsets.push_back(p.offset);
      sizes.push_back(p.size);
    }
    std::vector<uint8_t> shared(shared_bytes);
    rcuda_test_launch launch{};
    launch.grid = {grid.x, grid.y, grid.z};
    launch.block = {block.x, block.y, block.z};
    launch.params = params.data();
    launch.param_offsets = offsets.data();
    launch.param_sizes = sizes.data();
    launch.param_count = static_cast<uint32_t>(offsets.size());
    launch.dynamic_shared = shared.empty() ? nullptr : shared.data();
    launch.dynamic_shared_bytes = shared.size();
    launch.find_symbol = &FindSymbol;
    launch.is_device_range = &IsDeviceRange;
    SymbolContext ctx{f.module, &table_};
    launch.ctx = &ctx;
    int result = it->second(&launch);
    if (result != 0) return Status(result, "TEST BACKEND: host kernel " + f.name + " reported an error");
    return Status::Ok();
  }

  Status Synchronize() override { return Status::Ok(); }

  // Everything below runs synchronously and in order, which is one valid
  // schedule of what CUDA may do concurrently.

  Status StreamPriorityRange(int32_t* least, int32_t* greatest) override {
    *least = 0;
    *greatest = -5;
    return Status::Ok();
  }

  Status CopyToDevice3D(const Copy3D& c, uint64_t stream, const ChunkReader& read) override {
    RCUDA_RETURN_IF_ERROR(CheckStream(stream));
    for (uint64_t z = 0; z < c.depth; ++z)
      for (uint64_t y = 0; y < c.height; ++y) RCUDA_RETURN_IF_ERROR(read(Row(c.dst, c.dst_pitch, c.dst_height, y, z), c.width));
    return Status::Ok();
  }

  Status CopyFromDevice3D(const Copy3D& c, uint64_t stream, const ChunkWriter& write) override {
    RCUDA_RETURN_IF_ERROR(CheckStream(stream));
    for (uint64_t z = 0; z < c.depth; ++z)
      for (uint64_t y = 0; y < c.height; ++y) RCUDA_RETURN_IF_ERROR(write(Row(c.src, c.src_pitch, c.src_height, y, z), c.width));
    return Status::Ok();
  }

  Status CopyFromDevice3DAsync(const Copy3D& c, uint64_t stream, uint64_t pending) override {
    RCUDA_RETURN_IF_ERROR(CheckStream(stream));
    return DeliverPacked(c, pending);
  }

  Status CopyOnDevice3D(const Copy3D& c, uint64_t stream) override {
    RCUDA_RETURN_IF_ERROR(CheckStream(stream));
    for (uint64_t z = 0; z < c.depth; ++z)
      for (uint64_t y = 0; y < c.height; ++y)
        std::memmove(Row(c.dst, c.dst_pitch, c.dst_height, y, z), Row(c.src, c.src_pitch, c.src_height, y, z), c.width);
    return Status::Ok();
  }

  Status Memset3D(const Set3D& m, uint64_t stream) override {
    RCUDA_RETURN_IF_ERROR(CheckStream(stream));
    for (uint64_t z = 0; z < m.depth; ++z)
      for (uint64_t y = 0; y < m.height; ++y) {
        uint8_t* row = Row(m.dst, m.pitch, m.slice_height, y, z);
        for (uint64_t x = 0; x + m.element_size <= m.width; x += m.element_size)
          std::memcpy(row + x, &m.value, m.element_size);  // little-endian, as the GPU
      }
    return Status::Ok();
  }

  Status AllocatePitch(uint64_t width, uint64_t height, uint64_t* ptr, uint64_t* pitch) override {
    uint64_t bytes = 0;
    if (width > UINT64_MAX - 511 || __builtin_mul_overflow((width + 511) / 512 * 512, height, &bytes)) {
      return Status::OutOfMemory("TEST BACKEND: pitched allocation of an impossible size");
    }
    *pitch = (width + 511) / 512 * 512;
    return Allocate(bytes, ptr);
  }

  Status StreamCreate(uint32_t flags, int32_t priority, uint64_t* stream) override {
    *stream = ++next_handle_;
    streams_[*stream] = StreamInfo{flags, std::clamp(priority, -5, 0)};
    return Status::Ok();
  }
  Status StreamDestroy(uint64_t stream) override {
    if (stream == kLegacyStream || !streams_.erase(stream)) return BadHandle("stream");
    return Status::Ok();
  }
  Status StreamSynchronize(uint64_t stream) override { return CheckStream(stream); }
  Status StreamQuery(uint64_t stream) override { return CheckStream(stream); }
  Status StreamWaitEvent(uint64_t stream, uint64_t event, uint32_t) override {
    RCUDA_RETURN_IF_ERROR(CheckStream(stream));
    return events_.count(event) ? Status::Ok() : BadHandle("event");
  }
  Status EventCreate(uint32_t flags, uint64_t* event) override {
    *event = ++next_handle_;
    events_[*event] = EventInfo{flags, false, 0};
    return Status::Ok();
  }
  Status EventDestroy(uint64_t event) override { return events_.erase(event) ? Status::Ok() : BadHandle("event"); }
  Status EventRecord(uint64_t event, uint64_t stream, uint32_t) override {
    RCUDA_RETURN_IF_ERROR(CheckStream(stream));
    auto it = events_.find(event);
    if (it == events_.end()) return BadHandle("event");
    it->second.recorded = true;
    // Host time: TEST BACKEND timings measure nothing about GPUs.
    it->second.nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(
                           std::chrono::steady_clock::now().time_since_epoch())
                           .count();
    return Status::Ok();
  }
  Status EventSynchronize(uint64_t event) override { return events_.count(event) ? Status::Ok() : BadHandle("event"); }
  Status EventQuery(uint64_t event) override { return events_.count(event) ? Status::Ok() : BadHandle("event"); }
  Status EventElapsedTime(uint64_t start, uint64_t end, float* ms) override {
    auto a = events_.find(start), b = events_.find(end);
    if (a == events_.end() || b == events_.end()) return BadHandle("event");
    if ((a->second.flags | b->second.flags) & 0x2) {
      return Status(kInvalidResourceHandle, "event created with cudaEventDisableTiming");
    }
    if (!a->second.recorded || !b->second.recorded) return Status(600, "event not recorded");
    *ms = static_cast<float>((b->second.nanos - a->second.nanos) / 1e6);
    return Status::Ok();
  }
  Status LaunchHostFunction(uint64_t stream, uint64_t id) override {
    RCUDA_RETURN_IF_ERROR(CheckStream(stream));
    if (!host_channel_) return Status(Status::kNotSupported, "no host channel");
    return host_channel_->RunHostFunction(id);
  }

  Status GraphInstantiate(const std::vector<GraphNodeSpec>& nodes, uint64_t* exec) override {
    for (const auto& n : nodes) RCUDA_RETURN_IF_ERROR(CheckNode(n));
    RCUDA_RETURN_IF_ERROR(CheckStaging(nodes));
    *exec = ++next_handle_;
    graphs_[*exec] = nodes;
    return Status::Ok();
  }

  Status GraphLaunch(uint64_t exec, uint64_t stream, uint64_t input_bytes, const ChunkReader& read) override {
    RCUDA_RETURN_IF_ERROR(CheckStream(stream));
    auto it = graphs_.find(exec);
    if (it == graphs_.end()) return BadHandle("graph exec");
    for (const auto& n : it->second) {
      if (n.type == GraphNodeSpec::Type::kKernel && !functions_[n.function - 1].live) {
        return Status(kInvalidResourceHandle, "TEST BACKEND: the graph launches a function of an unloaded module");
      }
    }
    // Host inputs first (they came with the launch), then the nodes in
    // order: dependencies always point to earlier nodes.
    std::vector<std::vector<uint8_t>> inputs;
    uint64_t expected = 0;
    for (const auto& n : it->second) {
      if (n.type == GraphNodeSpec::Type::kMemcpy && n.direction == GraphNodeSpec::Direction::kHostToDevice) {
        inputs.emplace_back(n.copy.packed_bytes());
        expected += n.copy.packed_bytes();
      }
    }
    if (expected != input_bytes) return Status::InvalidValue("graph launch input size mismatch");
    for (auto& in : inputs) RCUDA_RETURN_IF_ERROR(read(in.data(), in.size()));
    size_t input = 0;
    for (const auto& n : it->second) {
      switch (n.type) {
        case GraphNodeSpec::Type::kKernel:
          RCUDA_RETURN_IF_ERROR(Launch(n.function, n.grid, n.block, n.shared_bytes, stream, n.params, {}));
          break;
        case GraphNodeSpec::Type::kMemcpy:
          if (n.direction == GraphNodeSpec::Direction::kHostToDevice) {
            const uint8_t* data = inputs[input++].data();
            RCUDA_RETURN_IF_ERROR(CopyToDevice3D(n.copy, stream, [&](void* dst, size_t size) {
              std::memcpy(dst, data, size);
              data += size;
              return Status::Ok();
            }));
          } else if (n.direction == GraphNodeSpec::Direction::kDeviceToHost) {
            RCUDA_RETURN_IF_ERROR(DeliverPacked(n.copy, n.pending));
          } else {
            RCUDA_RETURN_IF_ERROR(CopyOnDevice3D(n.copy, stream));
          }
          break;
        case GraphNodeSpec::Type::kMemset:
          RCUDA_RETURN_IF_ERROR(Memset3D(n.set, stream));
          break;
        case GraphNodeSpec::Type::kHost:
          RCUDA_RETURN_IF_ERROR(LaunchHostFunction(stream, n.host_id));
          break;
        case GraphNodeSpec::Type::kEventRecord:
          RCUDA_RETURN_IF_ERROR(EventRecord(n.event, stream, 0));
          break;
        case GraphNodeSpec::Type::kEventWait:
        case GraphNodeSpec::Type::kEmpty:
          break;
      }
    }
    return Status::Ok();
  }

  Status GraphExecDestroy(uint64_t exec) override { return graphs_.erase(exec) ? Status::Ok() : BadHandle("graph exec"); }

  Status GraphExecKernelNodeSetParams(uint64_t exec, uint32_t node, const GraphNodeSpec& kernel) override {
    auto it = graphs_.find(exec);
    if (it == graphs_.end()) return BadHandle("graph exec");
    if (node >= it->second.size() || it->second[node].type != GraphNodeSpec::Type::kKernel) {
      return Status::InvalidValue("not a kernel node");
    }
    RCUDA_RETURN_IF_ERROR(CheckNode(kernel));
    GraphNodeSpec& n = it->second[node];
    n.function = kernel.function;
    n.grid = kernel.grid;
    n.block = kernel.block;
    n.shared_bytes = kernel.shared_bytes;
    n.params = kernel.params;
    return Status::Ok();
  }

  Status GraphExecUpdate(uint64_t exec, const std::vector<GraphNodeSpec>& nodes) override {
    auto it = graphs_.find(exec);
    if (it == graphs_.end()) return BadHandle("graph exec");
    if (nodes.size() != it->second.size()) return Status(910, "graph topology changed");
    for (const auto& n : nodes) RCUDA_RETURN_IF_ERROR(CheckNode(n));
    RCUDA_RETURN_IF_ERROR(CheckStaging(nodes));
    for (size_t i = 0; i < nodes.size(); ++i) {
      if (nodes[i].type != it->second[i].type || nodes[i].dependencies != it->second[i].dependencies) {
        return Status(910, "graph topology changed");
      }
    }
    it->second = nodes;
    return Status::Ok();
  }

  Status Query(WaitTarget target, uint64_t handle) override {
    if (target == WaitTarget::kStream) return CheckStream(handle);
    if (target == WaitTarget::kEvent) return events_.count(handle) ? Status::Ok() : BadHandle("event");
    return Status::Ok();
  }

  Status PrepareWait(WaitTarget target, uint64_t handle, std::function<Status()>* wait) override {
    RCUDA_RETURN_IF_ERROR(Query(target, handle));
    *wait = [] { return Status::Ok(); };
    return Status::Ok();
  }

  Status Call(uint32_t op, std::span<const int64_t> args, std::vector<int64_t>* values) override {
    auto arg = [&](size_t i) { return i < args.size() ? args[i] : 0; };
    switch (static_cast<CallOp>(op)) {
      case CallOp::kDeviceGetLimit: {
        auto it = limits_.find(arg(0));
        if (it == limits_.end()) return Status(Status::kNotSupported, "unknown limit");
        values->push_back(it->second);
        return Status::Ok();
      }
      case CallOp::kDeviceSetLimit:
        if (!limits_.count(arg(0))) return Status(Status::kNotSupported, "unknown limit");
        limits_[arg(0)] = arg(1);
        return Status::Ok();
      case CallOp::kFuncSetAttribute:
      case CallOp::kFuncSetCacheConfig:
        if (arg(0) == 0 || static_cast<uint64_t>(arg(0)) > functions_.size()) return BadHandle("function");
        return Status::Ok();
      case CallOp::kOccupancyMaxActiveBlocks: {
        if (arg(0) == 0 || static_cast<uint64_t>(arg(0)) > functions_.size()) return BadHandle("function");
        values->push_back(MaxActiveBlocks(functions_[arg(0) - 1].static_shared, arg(1), arg(2)));
        return Status::Ok();
      }
      case CallOp::kOccupancyAvailableDynamicSMem:
        values->push_back(48 << 10);
        return Status::Ok();
      case CallOp::kMemPoolCreate:
        values->push_back(static_cast<int64_t>(++next_handle_));
        pools_[values->back()] = {};
        return Status::Ok();
      case CallOp::kMemPoolDestroy:
        return pools_.erase(arg(0)) ? Status::Ok() : BadHandle("memory pool");
      case CallOp::kMemPoolSetAttribute:
        if (!pools_.count(arg(0))) return BadHandle("memory pool");
        pools_[arg(0)][arg(1)] = arg(2);
        return Status::Ok();
      case CallOp::kMemPoolGetAttribute:
        if (!pools_.count(arg(0))) return BadHandle("memory pool");
        values->push_back(pools_[arg(0)][arg(1)]);
        return Status::Ok();
      case CallOp::kMemPoolTrimTo: {
        if (!pools_.count(arg(0))) return BadHandle("memory pool");
        auto& a = pools_[arg(0)];
        a[kReservedCurrent] = std::max(a[kUsedCurrent], std::min(a[kReservedCurrent], arg(1)));
        return Status::Ok();
      }
      case CallOp::kDeviceGetDefaultMemPool:
        values->push_back(kDefaultPool);
        return Status::Ok();
      case CallOp::kDeviceGetMemPool:
        values->push_back(current_pool_);
        return Status::Ok();
      case CallOp::kDeviceSetMemPool:
        if (!pools_.count(arg(0))) return BadHandle("memory pool");
        current_pool_ = arg(0);
        return Status::Ok();
      case CallOp::kMallocAsync: {
        RCUDA_RETURN_IF_ERROR(CheckStream(arg(1)));
        int64_t pool = arg(2) ? arg(2) : current_pool_;
        if (!pools_.count(pool)) return BadHandle("memory pool");
        uint64_t ptr = 0;
        RCUDA_RETURN_IF_ERROR(Allocate(static_cast<uint64_t>(arg(0)), &ptr));
        values->push_back(static_cast<int64_t>(ptr));
        // Pool statistics (cudaMemPoolAttr*MemCurrent/High): reserved memory
        // grows with use and shrinks only when trimmed.
        auto& a = pools_[pool];
        pool_of_[ptr] = {pool, arg(0)};
        a[kUsedCurrent] += arg(0);
        a[kUsedHigh] = std::max(a[kUsedHigh], a[kUsedCurrent]);
        a[kReservedCurrent] = std::max(a[kReservedCurrent], a[kUsedCurrent]);
        a[kReservedHigh] = std::max(a[kReservedHigh], a[kReservedCurrent]);
        return Status::Ok();
      }
      case CallOp::kFreeAsync: {
        RCUDA_RETURN_IF_ERROR(CheckStream(arg(1)));
        auto it = pool_of_.find(static_cast<uint64_t>(arg(0)));
        if (it != pool_of_.end()) {
          pools_[it->second.first][kUsedCurrent] -= it->second.second;
          pool_of_.erase(it);
        }
        return Free(static_cast<uint64_t>(arg(0)));
      }
      case CallOp::kDeviceSetCacheConfig:
        cache_config_ = arg(0);
        return Status::Ok();
      case CallOp::kDeviceGetCacheConfig:
        values->push_back(cache_config_);
        return Status::Ok();
      case CallOp::kOccupancyMaxPotentialClusterSize:
        values->push_back(8);  // the portable cluster size limit
        return Status::Ok();
      case CallOp::kOccupancyMaxActiveClusters: {
        if (arg(0) == 0 || static_cast<uint64_t>(arg(0)) > functions_.size()) return BadHandle("function");
        int64_t cluster = std::max<int64_t>(1, arg(8) * std::max<int64_t>(1, arg(9)) * std::max<int64_t>(1, arg(10)));
        int64_t blocks = MaxActiveBlocks(functions_[arg(0) - 1].static_shared, arg(4) * arg(5) * arg(6), arg(7)) * 4;
        values->push_back(blocks / cluster);
        return Status::Ok();
      }
      case CallOp::kStreamGetInfo: {
        if (arg(0) == kLegacyStream) {
          values->insert(values->end(), {0, 0});
          return Status::Ok();
        }
        auto it = streams_.find(arg(0));
        if (it == streams_.end()) return BadHandle("stream");
        values->insert(values->end(), {it->second.priority, it->second.flags});
        return Status::Ok();
      }
    }
    return Status(Status::kNotSupported, "TEST BACKEND: call " + std::to_string(op) + " not supported");
  }

 private:
  struct StreamInfo {
    uint32_t flags;
    int32_t priority;
  };
  struct EventInfo {
    uint32_t flags;
    bool recorded;
    int64_t nanos;
  };
  static constexpr int64_t kDefaultPool = 1;
  // cudaMemPoolAttr values of the statistics.
  static constexpr int64_t kReservedCurrent = 5, kReservedHigh = 6, kUsedCurrent = 7, kUsedHigh = 8;

  // The occupancy model of the test device: 2048 threads, 32 blocks and
  // 228 KiB of shared memory per SM.
  static int64_t MaxActiveBlocks(uint64_t static_shared, int64_t block, int64_t dynamic_shared) {
    block = std::max<int64_t>(block, 1);
    int64_t blocks = std::min<int64_t>(32, 2048 / block);
    int64_t shared = dynamic_shared + static_cast<int64_t>(static_shared);
    if (shared > 0) blocks = std::min<int64_t>(blocks, (228 << 10) / shared);
    return blocks;
  }

  static Status BadHandle(const char* what) { return Status(kInvalidResourceHandle, std::string("invalid ") + what); }

  Status CheckStream(uint64_t stream) const {
    return stream == kLegacyStream || streams_.count(stream) ? Status::Ok() : BadHandle("stream");
  }

  Status CheckNode(const GraphNodeSpec& n) const {
    if (n.type == GraphNodeSpec::Type::kKernel &&
        (n.function == 0 || n.function > functions_.size() || !functions_[n.function - 1].live)) {
      return BadHandle("function in graph");
    }
    if ((n.type == GraphNodeSpec::Type::kEventRecord || n.type == GraphNodeSpec::Type::kEventWait) &&
        !events_.count(n.event)) {
      return BadHandle("event in graph");
    }
    return Status::Ok();
  }

  static uint8_t* Row(uint64_t base, uint64_t pitch, uint64_t slice_height, uint64_t y, uint64_t z) {
    return reinterpret_cast<uint8_t*>(base + (z * slice_height + y) * pitch);
  }

  // Row by row: no host buffer of the copy's size.
  Status DeliverPacked(const Copy3D& c, uint64_t pending) {
    if (!host_channel_) return Status(Status::kNotSupported, "no host channel");
    return host_channel_->DeliverToHostFrom(pending, c.packed_bytes(), [&](const ChunkWriter& write) {
      return CopyFromDevice3D(c, kLegacyStream, write);
    });
  }

  // A graph's host staging (its memcpy nodes' host sides, which GraphLaunch
  // allocates each launch) fits the session's host budget.
  Status CheckStaging(const std::vector<GraphNodeSpec>& nodes) const {
    uint64_t staging = 0;
    for (const auto& n : nodes) {
      if (n.type != GraphNodeSpec::Type::kMemcpy || n.direction == GraphNodeSpec::Direction::kDeviceToDevice) continue;
      if (__builtin_add_overflow(staging, n.copy.packed_bytes(), &staging)) staging = UINT64_MAX;
    }
    if (staging > host_budget_.limit()) {
      return Status::OutOfMemory("TEST BACKEND: a graph's host staging exceeds the session's " +
                                 std::to_string(host_budget_.limit()) + " bytes");
    }
    return Status::Ok();
  }

  struct Module {
    ModuleImage image;
    std::unordered_map<std::string, std::unique_ptr<std::vector<uint8_t>>> variables;
    bool unloaded = false;
  };
  struct Function {
    Module* module;
    std::string name;
    std::vector<KernelParamInfo> params;
    uint64_t static_shared = 0;
    bool live = true;  // false once its module is unloaded
  };
  struct SymbolContext {
    Module* module;
    const AllocationTable* table;
  };

  static void* FindSymbol(const void* ctx, const char* name) {
    auto* c = static_cast<const SymbolContext*>(ctx);
    auto it = c->module->variables.find(name);
    return it == c->module->variables.end() ? nullptr : it->second->data();
  }

  static int IsDeviceRange(const void* ctx, const void* p, size_t bytes) {
    auto* c = static_cast<const SymbolContext*>(ctx);
    return c->table->Contains(reinterpret_cast<uint64_t>(p), bytes) ? 1 : 0;
  }

  static size_t MapSize(uint64_t size) { return size ? size : 1; }

  ExecutorOptions options_;
  HostBudget host_budget_;
  AllocationTable table_;
  std::unordered_map<uint64_t, uint64_t> mappings_;
  std::vector<std::unique_ptr<Module>> modules_;
  std::vector<Function> functions_;
  uint64_t used_ = 0;
  uint64_t next_handle_ = 0x1000;
  std::unordered_map<uint64_t, StreamInfo> streams_;
  std::unordered_map<uint64_t, EventInfo> events_;
  std::unordered_map<uint64_t, std::vector<GraphNodeSpec>> graphs_;
  std::unordered_map<int64_t, std::unordered_map<int64_t, int64_t>> pools_{{kDefaultPool, {}}};
  int64_t current_pool_ = kDefaultPool;
  std::unordered_map<uint64_t, std::pair<int64_t, int64_t>> pool_of_;  // ptr -> pool, size
  int64_t cache_config_ = 0;
  // cudaLimit values: stack size, printf FIFO, malloc heap, sync depth,
  // pending launches, max L2 fetch granularity, persisting L2 cache.
  std::unordered_map<int64_t, int64_t> limits_{{0, 1024}, {1, 1 << 20}, {2, 8 << 20}, {3, 2}, {4, 2048}, {5, 64}, {6, 0}};
};

}  // namespace

std::unique_ptr<Executor> NewTestExecutor(const ExecutorOptions& options) {
  return std::make_unique<TestExecutor>(options);
}

}  // namespace rcuda
