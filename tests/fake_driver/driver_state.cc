#include "tests/fake_driver/driver_state.h"

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <chrono>

#include "tests/fake_driver/call_counts.h"
#include "tests/fake_driver/host_kernels.h"
#include "tests/fake_driver/stream_engine.h"

namespace fake {
namespace {

constexpr uint64_t kDefaultMemory = 4ull << 30;
constexpr int kMaxDevices = 16;

thread_local Context* current_context = nullptr;

// "4294967296", "4G", "512M", "64K".
bool ParseBytes(const char* text, uint64_t* bytes) {
  char* end = nullptr;
  unsigned long long v = std::strtoull(text, &end, 10);
  if (end == text) return false;
  uint64_t scale = 1;
  if (*end == 'K' || *end == 'k') scale = 1ull << 10, ++end;
  else if (*end == 'M' || *end == 'm') scale = 1ull << 20, ++end;
  else if (*end == 'G' || *end == 'g') scale = 1ull << 30, ++end;
  if (*end != '\0' || v == 0) return false;
  *bytes = v * scale;
  return true;
}

}  // namespace

void Log(const char* format, ...) {
  char line[1024];
  va_list args;
  va_start(args, format);
  std::vsnprintf(line, sizeof line, format, args);
  va_end(args);
  std::fprintf(stderr, "[rcuda FAKE libcuda.so.1, TEST EQUIPMENT] %s\n", line);
}

int TraceLevel() {
  static const int level = [] {
    const char* v = std::getenv("RCUDA_FAKE_DRIVER_TRACE");
    return v ? std::atoi(v) : 0;
  }();
  return level;
}

Driver& D() {
  static Driver* driver = new Driver;
  return *driver;
}

int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

CUresult Initialize() {
  Driver& d = D();
  if (d.initialized) return CUDA_SUCCESS;
  int count = 1;
  if (const char* v = std::getenv("RCUDA_FAKE_DRIVER_DEVICES")) {
    count = std::atoi(v);
    if (count < 1 || count > kMaxDevices) {
      Log("RCUDA_FAKE_DRIVER_DEVICES=%s: expected 1..%d", v, kMaxDevices);
      return CUDA_ERROR_INVALID_VALUE;
    }
  }
  uint64_t memory = kDefaultMemory;
  if (const char* v = std::getenv("RCUDA_FAKE_DRIVER_MEMORY")) {
    if (!ParseBytes(v, &memory)) {
      Log("RCUDA_FAKE_DRIVER_MEMORY=%s: expected bytes, optionally with K, M or G", v);
      return CUDA_ERROR_INVALID_VALUE;
    }
  }
  std::string error;
  const char* plugins = std::getenv("RCUDA_FAKE_DRIVER_KERNELS");
  if (plugins && !*plugins) plugins = nullptr;
  if (plugins && !LoadHostKernelPlugins(plugins, &error)) {
    Log("%s", error.c_str());
    return CUDA_ERROR_NOT_INITIALIZED;
  }
  for (int i = 0; i < count; ++i) {
    auto dev = std::make_unique<Device>();
    dev->ordinal = i;
    dev->total_memory = memory;
    dev->primary.device = i;
    d.devices.push_back(std::move(dev));
  }
  d.initialized = true;
  OpenCallCounts();
  Log("host memory and host kernels, not a GPU: %d device(s) of %llu bytes, %zu host kernels%s%s", count,
      static_cast<unsigned long long>(memory), HostKernelCount(), plugins ? " from " : "", plugins ? plugins : "");
  return CUDA_SUCCESS;
}

CUresult UsableContext(Context** ctx) {
  if (!D().initialized) return CUDA_ERROR_NOT_INITIALIZED;
  Context* c = current_context;
  if (!c) return CUDA_ERROR_INVALID_CONTEXT;
  if (!c->active) return CUDA_ERROR_CONTEXT_IS_DESTROYED;
  if (c->sticky) return static_cast<CUresult>(c->sticky.load());
  *ctx = c;
  return CUDA_SUCCESS;
}

void SetCurrentContext(Context* ctx) { current_context = ctx; }
Context* CurrentContext() { return current_context; }

CUresult DeviceOf(CUdevice dev, Device** device) {
  Driver& d = D();
  if (!d.initialized) return CUDA_ERROR_NOT_INITIALIZED;
  if (dev < 0 || dev >= static_cast<int>(d.devices.size())) return CUDA_ERROR_INVALID_DEVICE;
  *device = d.devices[dev].get();
  return CUDA_SUCCESS;
}

void MakeSticky(Context* ctx, CUresult error, const std::string& why) {
  int expected = 0;
  if (ctx->sticky.compare_exchange_strong(expected, static_cast<int>(error))) {
    Log("device %d: context faulted with CUresult %d (%s); every later call on it fails", ctx->device,
        static_cast<int>(error), why.c_str());
    D().cv.notify_all();
  }
}

}  // namespace fake
