// NVML, opened with dlopen so that the monitor builds and starts on machines
// without the NVIDIA driver (it then says so and exits, or runs from an
// inventory file). The few declarations below are NVML's stable C ABI
// (nvml.h): the toolkit on the build machine may not ship nvml.h.
#include <dlfcn.h>

#include "scheduler/gpu_source.h"

namespace rcuda::sched {

namespace {

using nvmlReturn_t = int;
using nvmlDevice_t = struct nvmlDevice_st*;
constexpr nvmlReturn_t kNvmlSuccess = 0;
constexpr nvmlReturn_t kNvmlErrorNotSupported = 3;
constexpr unsigned kNvmlNameBufferSize = 96;  // NVML_DEVICE_NAME_V2_BUFFER_SIZE
constexpr unsigned kNvmlUuidBufferSize = 96;  // >= NVML_DEVICE_UUID_V2_BUFFER_SIZE

struct nvmlMemory_t {
  unsigned long long total;
  unsigned long long free;
  unsigned long long used;
};

struct nvmlUtilization_t {
  unsigned int gpu;
  unsigned int memory;
};

class NvmlGpuSource : public GpuSource {
 public:
  ~NvmlGpuSource() override {
    if (shutdown_) shutdown_();
    if (library_) dlclose(library_);
  }

  Status Open() {
    library_ = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!library_) {
      return Status::Unavailable(std::string("cannot load NVML (libnvidia-ml.so.1): ") + dlerror() +
                                 "; no NVIDIA driver here? Use --inventory FILE on machines without a GPU");
    }
    bool ok = Bind(init_, "nvmlInit_v2") && Bind(shutdown_, "nvmlShutdown") && Bind(error_string_, "nvmlErrorString") &&
              Bind(count_, "nvmlDeviceGetCount_v2") && Bind(handle_, "nvmlDeviceGetHandleByIndex_v2") &&
              Bind(name_, "nvmlDeviceGetName") && Bind(uuid_, "nvmlDeviceGetUUID") &&
              Bind(memory_, "nvmlDeviceGetMemoryInfo") && Bind(utilization_, "nvmlDeviceGetUtilizationRates");
    if (!ok) return Status::Unavailable("NVML lacks a function the monitor needs: " + missing_);
    nvmlReturn_t rc = init_();
    if (rc != kNvmlSuccess) {
      shutdown_ = nullptr;  // not initialised: nothing to shut down
      return Status::Unavailable("nvmlInit failed: " + Error(rc));
    }
    return Status::Ok();
  }

  Status Read(std::vector<GpuReport>* gpus) override {
    gpus->clear();
    unsigned count = 0;
    nvmlReturn_t rc = count_(&count);
    if (rc != kNvmlSuccess) return Status::Unavailable("nvmlDeviceGetCount: " + Error(rc));
    for (unsigned i = 0; i < count; ++i) {
      nvmlDevice_t device = nullptr;
      rc = handle_(i, &device);
      if (rc != kNvmlSuccess) return Status::Unavailable("nvmlDeviceGetHandleByIndex(" + std::to_string(i) + "): " + Error(rc));
      GpuReport gpu;
      gpu.index = int(i);
      char text[kNvmlUuidBufferSize > kNvmlNameBufferSize ? kNvmlUuidBufferSize : kNvmlNameBufferSize] = {};
      if (name_(device, text, kNvmlNameBufferSize) == kNvmlSuccess) gpu.name = text;
      text[0] = '\0';
      if (uuid_(device, text, kNvmlUuidBufferSize) == kNvmlSuccess) gpu.uuid = text;
      nvmlMemory_t memory{};
      rc = memory_(device, &memory);
      if (rc != kNvmlSuccess) return Status::Unavailable("nvmlDeviceGetMemoryInfo(" + std::to_string(i) + "): " + Error(rc));
      gpu.total_bytes = memory.total;
      gpu.free_bytes = memory.free;
      nvmlUtilization_t utilization{};
      rc = utilization_(device, &utilization);
      if (rc == kNvmlSuccess) {
        gpu.utilization_percent = int(utilization.gpu);
      } else if (rc != kNvmlErrorNotSupported) {
        return Status::Unavailable("nvmlDeviceGetUtilizationRates(" + std::to_string(i) + "): " + Error(rc));
      }
      gpus->push_back(std::move(gpu));
    }
    return Status::Ok();
  }

  std::string Describe() const override { return "nvml"; }

 private:
  template <typename F>
  bool Bind(F& function, const char* name) {
    function = reinterpret_cast<F>(dlsym(library_, name));
    if (!function) missing_ = name;
    return function != nullptr;
  }

  std::string Error(nvmlReturn_t rc) const {
    const char* text = error_string_ ? error_string_(rc) : nullptr;
    return (text ? std::string(text) : "error") + " (" + std::to_string(rc) + ")";
  }

  void* library_ = nullptr;
  std::string missing_;
  nvmlReturn_t (*init_)() = nullptr;
  nvmlReturn_t (*shutdown_)() = nullptr;
  const char* (*error_string_)(nvmlReturn_t) = nullptr;
  nvmlReturn_t (*count_)(unsigned*) = nullptr;
  nvmlReturn_t (*handle_)(unsigned, nvmlDevice_t*) = nullptr;
  nvmlReturn_t (*name_)(nvmlDevice_t, char*, unsigned) = nullptr;
  nvmlReturn_t (*uuid_)(nvmlDevice_t, char*, unsigned) = nullptr;
  nvmlReturn_t (*memory_)(nvmlDevice_t, nvmlMemory_t*) = nullptr;
  nvmlReturn_t (*utilization_)(nvmlDevice_t, nvmlUtilization_t*) = nullptr;
};

}  // namespace

Status OpenNvmlGpuSource(std::unique_ptr<GpuSource>* source) {
  auto nvml = std::make_unique<NvmlGpuSource>();
  RCUDA_RETURN_IF_ERROR(nvml->Open());
  *source = std::move(nvml);
  return Status::Ok();
}

}  // namespace rcuda::sched
