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

#include <chrono>
#include <cstring>
#include <mutex>
#include <spdlog/spdlog.h>
#include <unordered_map>

#include "common/allocation_table.h"
#include "server/device_props.h"
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
  explicit TestExecutor(const ExecutorOptions& options) : options_(options) {}

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
    set(95, 0); set(97, 227 << 10); set(99, 0); set(106, 32); set(111, 1024); set(115, 0);
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
        fd.max_threads_per_block = 1024;
        fd.binary_version = kTestArch;
        fd.ptx_version = kTestArch;
        fd.max_dynamic_shared_size_bytes = 48 << 10;
        functions_.push_back(Function{m.get(), name, kernel->params});
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
    // Functions keep pointers into their module; keep it until the session
    // ends, as unloading is rare (program exit).
    if (module == 0 || module > modules_.size()) return Status(kInvalidResourceHandle, "unknown module");
    return Status::Ok();
  }

  Status Launch(uint64_t function, Dim3 grid, Dim3 block, uint32_t shared_bytes, uint64_t,
                std::span<const uint8_t> params) override {
    if (function == 0 || function > functions_.size()) {
      return Status(kInvalidResourceHandle, "TEST BACKEND: unknown function handle");
    }
    const Function& f = functions_[function - 1];
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

 private:
  struct Module {
    ModuleImage image;
    std::unordered_map<std::string, std::unique_ptr<std::vector<uint8_t>>> variables;
  };
  struct Function {
    Module* module;
    std::string name;
    std::vector<KernelParamInfo> params;
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
  AllocationTable table_;
  std::unordered_map<uint64_t, uint64_t> mappings_;
  std::vector<std::unique_ptr<Module>> modules_;
  std::vector<Function> functions_;
  uint64_t used_ = 0;
};

}  // namespace

std::unique_ptr<Executor> NewTestExecutor(const ExecutorOptions& options) {
  return std::make_unique<TestExecutor>(options);
}

}  // namespace rcuda
