// Tests of the fake CUDA driver itself (TEST EQUIPMENT), loaded the way
// rcuda-server loads a driver: server/cuda_driver.cc's CudaDriver::Load, so
// every call below goes through the entry points cuGetProcAddress_v2 gave.
// CTest runs each [tag] in its own process with LD_LIBRARY_PATH naming the
// fake, two fake devices of 1 GiB, and the host kernels of
// data/engine_kernels_host.cc for the module data/engine_kernels.cu.
#include <dlfcn.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "server/cuda_driver.h"

namespace {

using namespace std::chrono_literals;

rcuda::CudaDriver& Driver() {
  static rcuda::CudaDriver* driver = [] {
    auto* d = new rcuda::CudaDriver;
    rcuda::Status s = d->Load();
    if (!s.ok()) FAIL("CudaDriver::Load: " << s.message());
    if (d->cuInit(0) != CUDA_SUCCESS) FAIL("cuInit failed");
    return d;
  }();
  return *driver;
}

// Device 0's primary context, current on the calling thread.
struct Session {
  rcuda::CudaDriver& drv = Driver();
  CUdevice dev = 0;
  CUcontext ctx = nullptr;
  Session() {
    REQUIRE(drv.cuDeviceGet(&dev, 0) == CUDA_SUCCESS);
    REQUIRE(drv.cuDevicePrimaryCtxRetain(&ctx, dev) == CUDA_SUCCESS);
    REQUIRE(drv.cuCtxSetCurrent(ctx) == CUDA_SUCCESS);
  }
  ~Session() { drv.cuDevicePrimaryCtxRelease(dev); }

  CUdeviceptr Alloc(size_t bytes) {
    CUdeviceptr p = 0;
    REQUIRE(drv.cuMemAlloc(&p, bytes) == CUDA_SUCCESS);
    return p;
  }
  CUstream Stream(unsigned flags = 0) {
    CUstream s = nullptr;
    REQUIRE(drv.cuStreamCreateWithPriority(&s, flags, 0) == CUDA_SUCCESS);
    return s;
  }
  CUevent Event(unsigned flags = 0) {
    CUevent e = nullptr;
    REQUIRE(drv.cuEventCreate(&e, flags) == CUDA_SUCCESS);
    return e;
  }
  std::vector<int> Read(CUdeviceptr p, size_t count) {
    std::vector<int> v(count);
    REQUIRE(drv.cuMemcpyDtoHAsync(v.data(), p, count * sizeof(int), CU_STREAM_LEGACY) == CUDA_SUCCESS);
    return v;
  }
};

// A host function that holds its stream until the test opens the gate.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  bool reached = false;

  static void CUDA_CB Hold(void* data) {
    auto* g = static_cast<Gate*>(data);
    std::unique_lock lock(g->mu);
    g->reached = true;
    g->cv.notify_all();
    g->cv.wait(lock, [&] { return g->open; });
  }
  void Open() {
    std::lock_guard lock(mu);
    open = true;
    cv.notify_all();
  }
  bool WaitReached() {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, 5s, [&] { return reached; });
  }
};

// Records the order in which host functions ran and on which thread.
struct Trace {
  std::mutex mu;
  std::vector<int> order;
  std::vector<std::thread::id> threads;
  struct Item {
    Trace* trace;
    int index;
  };
  std::vector<Item> items;
  static void CUDA_CB Run(void* data) {
    auto* item = static_cast<Item*>(data);
    std::lock_guard lock(item->trace->mu);
    item->trace->order.push_back(item->index);
    item->trace->threads.push_back(std::this_thread::get_id());
  }
};

std::string ReadFile(const char* path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The test module, loaded once per process.
struct Module {
  CUlibrary library = nullptr;
  std::string image = ReadFile(FAKE_DRIVER_TEST_FATBIN);
  CUfunction Function(Session& s, const char* name) {
    if (!library) REQUIRE(s.drv.cuLibraryLoadData(&library, image.data(), nullptr, nullptr, 0, nullptr, nullptr, 0) ==
                          CUDA_SUCCESS);
    CUkernel k = nullptr;
    CUfunction f = nullptr;
    REQUIRE(s.drv.cuLibraryGetKernel(&k, library, name) == CUDA_SUCCESS);
    REQUIRE(s.drv.cuKernelGetFunction(&f, k) == CUDA_SUCCESS);
    return f;
  }
};

CUresult LaunchFill(Session& s, CUfunction fill, CUdeviceptr p, int n, int value, CUstream stream,
                    unsigned shared = 0) {
  void* args[] = {&p, &n, &value};
  return s.drv.cuLaunchKernel(fill, (n + 127) / 128, 1, 1, 128, 1, 1, shared, stream, args, nullptr);
}

}  // namespace

TEST_CASE("every entry point rcuda-server needs resolves, at the ABI versions it asks for", "[proc_address]") {
  rcuda::CudaDriver drv;
  rcuda::Status s = drv.Load();
  REQUIRE(s.ok());
  CHECK(drv.cuLaunchKernelEx != nullptr);
  CHECK(drv.cuGetErrorString != nullptr);
}

TEST_CASE("cuGetProcAddress_v2 refuses what the fake does not implement", "[proc_address]") {
  void* lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  REQUIRE(lib != nullptr);
  using GetProc = CUresult (*)(const char*, void**, int, cuuint64_t, CUdriverProcAddressQueryResult*);
  auto get = reinterpret_cast<GetProc>(dlsym(lib, "cuGetProcAddress_v2"));
  REQUIRE(get != nullptr);
  // Only cuGetProcAddress_v2 is exported.
  CHECK(dlsym(lib, "cuInit") == nullptr);
  void* fn = nullptr;
  CUdriverProcAddressQueryResult status;
  CHECK(get("cuNoSuchFunction", &fn, 13000, CU_GET_PROC_ADDRESS_DEFAULT, &status) == CUDA_ERROR_NOT_FOUND);
  CHECK(status == CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND);
  CHECK(fn == nullptr);
  // CUDA 13 selects cuCtxSynchronize's _v2 ABI (it takes a context): not the one implemented.
  CHECK(get("cuCtxSynchronize", &fn, 13000, CU_GET_PROC_ADDRESS_DEFAULT, &status) == CUDA_ERROR_NOT_FOUND);
  CHECK(get("cuCtxSynchronize", &fn, 12080, CU_GET_PROC_ADDRESS_DEFAULT, &status) == CUDA_SUCCESS);
  CHECK(status == CU_GET_PROC_ADDRESS_SUCCESS);
  CHECK(fn != nullptr);
  // Older than the entry point itself.
  CHECK(get("cuLibraryLoadData", &fn, 11080, CU_GET_PROC_ADDRESS_DEFAULT, &status) == CUDA_ERROR_NOT_FOUND);
  CHECK(status == CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT);
  dlclose(lib);
}

TEST_CASE("error names and strings follow CUresult", "[proc_address]") {
  rcuda::CudaDriver& drv = Driver();
  const char* name = nullptr;
  const char* text = nullptr;
  REQUIRE(drv.cuGetErrorName(CUDA_ERROR_ILLEGAL_ADDRESS, &name) == CUDA_SUCCESS);
  CHECK(std::string(name) == "CUDA_ERROR_ILLEGAL_ADDRESS");
  REQUIRE(drv.cuGetErrorString(CUDA_ERROR_NOT_READY, &text) == CUDA_SUCCESS);
  CHECK(std::string(text).find("not completed") != std::string::npos);
  CHECK(drv.cuGetErrorName(static_cast<CUresult>(12345), &name) == CUDA_ERROR_INVALID_VALUE);
  CHECK(name == nullptr);
}

TEST_CASE("devices describe a small Hopper-like fake GPU", "[device]") {
  Session s;
  int count = 0, value = 0, version = 0;
  REQUIRE(s.drv.cuDeviceGetCount(&count) == CUDA_SUCCESS);
  CHECK(count == 2);
  char name[256] = {};
  REQUIRE(s.drv.cuDeviceGetName(name, sizeof name, 1) == CUDA_SUCCESS);
  // The name the test backend shows (test equipment, not a GPU).
  CHECK(std::string(name) == "rcuda TEST device (host memory, not a GPU)");
  auto attr = [&](CUdevice_attribute a) {
    REQUIRE(s.drv.cuDeviceGetAttribute(&value, a, 0) == CUDA_SUCCESS);
    return value;
  };
  CHECK(attr(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR) == 9);
  CHECK(attr(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR) == 0);
  CHECK(attr(CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT) == 4);
  CHECK(attr(CU_DEVICE_ATTRIBUTE_COOPERATIVE_LAUNCH) == 1);
  CHECK(attr(CU_DEVICE_ATTRIBUTE_MEMORY_POOLS_SUPPORTED) == 1);
  // Every value of the enum has an answer; the end of it has none.
  for (int a = 1; a < CU_DEVICE_ATTRIBUTE_MAX; ++a) {
    INFO("attribute " << a);
    CHECK(s.drv.cuDeviceGetAttribute(&value, static_cast<CUdevice_attribute>(a), 0) == CUDA_SUCCESS);
  }
  CHECK(s.drv.cuDeviceGetAttribute(&value, CU_DEVICE_ATTRIBUTE_MAX, 0) == CUDA_ERROR_INVALID_VALUE);
  CHECK(s.drv.cuDeviceGetAttribute(&value, CU_DEVICE_ATTRIBUTE_WARP_SIZE, 2) == CUDA_ERROR_INVALID_DEVICE);
  size_t total = 0, free = 0, total2 = 0;
  REQUIRE(s.drv.cuDeviceTotalMem(&total, 0) == CUDA_SUCCESS);
  CHECK(total == (1ull << 30));
  REQUIRE(s.drv.cuMemGetInfo(&free, &total2) == CUDA_SUCCESS);
  CHECK(total2 == total);
  CUdeviceptr p = s.Alloc(256 << 20);
  size_t free_after = 0;
  REQUIRE(s.drv.cuMemGetInfo(&free_after, &total2) == CUDA_SUCCESS);
  CHECK(free - free_after == (256u << 20));
  REQUIRE(s.drv.cuMemFree(p) == CUDA_SUCCESS);
  REQUIRE(s.drv.cuDriverGetVersion(&version) == CUDA_SUCCESS);
  CHECK(version == 13000);
  int least = 1, greatest = 1;
  REQUIRE(s.drv.cuCtxGetStreamPriorityRange(&least, &greatest) == CUDA_SUCCESS);
  CHECK(least == 0);
  CHECK(greatest == -5);
  size_t limit = 0;
  REQUIRE(s.drv.cuCtxSetLimit(CU_LIMIT_MALLOC_HEAP_SIZE, 96 << 20) == CUDA_SUCCESS);
  REQUIRE(s.drv.cuCtxGetLimit(&limit, CU_LIMIT_MALLOC_HEAP_SIZE) == CUDA_SUCCESS);
  CHECK(limit == (96u << 20));
  CHECK(s.drv.cuCtxSetLimit(CU_LIMIT_MAX_L2_FETCH_GRANULARITY, 256) == CUDA_ERROR_INVALID_VALUE);
  CHECK(s.drv.cuCtxSetLimit(CU_LIMIT_MAX, 1) == CUDA_ERROR_UNSUPPORTED_LIMIT);
}

TEST_CASE("profiler collection starts and stops on the current context", "[device]") {
  Session s;
  CHECK(s.drv.cuProfilerStart() == CUDA_SUCCESS);
  CHECK(s.drv.cuProfilerStart() == CUDA_SUCCESS);  // already started: no effect
  CHECK(s.drv.cuProfilerStop() == CUDA_SUCCESS);
  REQUIRE(s.drv.cuCtxSetCurrent(nullptr) == CUDA_SUCCESS);
  CHECK(s.drv.cuProfilerStart() == CUDA_ERROR_INVALID_CONTEXT);
  CHECK(s.drv.cuProfilerStop() == CUDA_ERROR_INVALID_CONTEXT);
  REQUIRE(s.drv.cuCtxSetCurrent(s.ctx) == CUDA_SUCCESS);
}

TEST_CASE("copies check every device range and keep host memory outside the copy intact", "[memory]") {
  Session s;
  const size_t n = 1000;
  CUdeviceptr d = s.Alloc(n * sizeof(int));
  std::vector<int> in(n), out(n + 2, -7);
  for (size_t i = 0; i < n; ++i) in[i] = static_cast<int>(i * 7 + 1);
  REQUIRE(s.drv.cuMemcpyHtoDAsync(d, in.data(), n * sizeof(int), CU_STREAM_LEGACY) == CUDA_SUCCESS);
  // Pageable destination: complete when the call returns.
  REQUIRE(s.drv.cuMemcpyDtoHAsync(out.data() + 1, d, n * sizeof(int), CU_STREAM_LEGACY) == CUDA_SUCCESS);
  CHECK(std::equal(in.begin(), in.end(), out.begin() + 1));
  CHECK(out.front() == -7);
  CHECK(out.back() == -7);

  CHECK(s.drv.cuMemcpyDtoHAsync(out.data(), d + 4, n * sizeof(int), CU_STREAM_LEGACY) == CUDA_ERROR_INVALID_VALUE);
  CHECK(s.drv.cuMemcpyHtoDAsync(d + n * sizeof(int), in.data(), 4, CU_STREAM_LEGACY) == CUDA_ERROR_INVALID_VALUE);
  CHECK(s.drv.cuMemcpyDtoDAsync(d, reinterpret_cast<CUdeviceptr>(in.data()), 4, CU_STREAM_LEGACY) ==
        CUDA_ERROR_INVALID_VALUE);
  CHECK(s.drv.cuMemsetD8Async(d + 1, 0, n * sizeof(int), CU_STREAM_LEGACY) == CUDA_ERROR_INVALID_VALUE);
  CHECK(s.drv.cuMemFree(d + 4) == CUDA_ERROR_INVALID_VALUE);
  CUdeviceptr huge = 0;
  CHECK(s.drv.cuMemAlloc(&huge, 2ull << 30) == CUDA_ERROR_OUT_OF_MEMORY);
  REQUIRE(s.drv.cuMemFree(d) == CUDA_SUCCESS);
  CHECK(s.drv.cuMemFree(d) == CUDA_ERROR_INVALID_VALUE);
  CHECK(s.drv.cuMemcpyHtoDAsync(d, in.data(), 4, CU_STREAM_LEGACY) == CUDA_ERROR_INVALID_VALUE);
}

TEST_CASE("pitched allocations, strided copies and 2-D fills", "[memory]") {
  Session s;
  CUdeviceptr d = 0;
  size_t pitch = 0;
  const size_t width = 100, height = 7;  // bytes, rows
  REQUIRE(s.drv.cuMemAllocPitch(&d, &pitch, width, height, 16) == CUDA_SUCCESS);
  CHECK(pitch % 512 == 0);
  CHECK(pitch >= width);
  REQUIRE(s.drv.cuMemsetD8Async(d, 0xEE, pitch * height, CU_STREAM_LEGACY) == CUDA_SUCCESS);
  // A 40x5 box at (x=8, y=1) from a packed host buffer.
  std::vector<uint8_t> box(40 * 5);
  for (size_t i = 0; i < box.size(); ++i) box[i] = static_cast<uint8_t>(i);
  CUDA_MEMCPY3D m{};
  m.srcMemoryType = CU_MEMORYTYPE_HOST;
  m.srcHost = box.data();
  m.srcPitch = 40;
  m.dstMemoryType = CU_MEMORYTYPE_DEVICE;
  m.dstDevice = d;
  m.dstPitch = pitch;
  m.dstXInBytes = 8;
  m.dstY = 1;
  m.WidthInBytes = 40;
  m.Height = 5;
  m.Depth = 1;
  REQUIRE(s.drv.cuMemcpy3DAsync(&m, CU_STREAM_LEGACY) == CUDA_SUCCESS);
  std::vector<uint8_t> all(pitch * height);
  REQUIRE(s.drv.cuMemcpyDtoHAsync(all.data(), d, all.size(), CU_STREAM_LEGACY) == CUDA_SUCCESS);
  for (size_t y = 0; y < height; ++y)
    for (size_t x = 0; x < pitch; ++x) {
      bool inside = y >= 1 && y < 6 && x >= 8 && x < 48;
      uint8_t want = inside ? box[(y - 1) * 40 + (x - 8)] : 0xEE;
      if (all[y * pitch + x] != want) FAIL("byte (" << x << ", " << y << ") is " << int(all[y * pitch + x]));
    }
  // A pitch below the width is refused, as is a box leaving the allocation.
  m.dstPitch = 16;
  CHECK(s.drv.cuMemcpy3DAsync(&m, CU_STREAM_LEGACY) == CUDA_ERROR_INVALID_VALUE);
  m.dstPitch = pitch;
  m.dstY = 3;
  CHECK(s.drv.cuMemcpy3DAsync(&m, CU_STREAM_LEGACY) == CUDA_ERROR_INVALID_VALUE);

  REQUIRE(s.drv.cuMemsetD2D32Async(d, pitch, 0xA1B2C3D4u, 3, 2, CU_STREAM_LEGACY) == CUDA_SUCCESS);
  REQUIRE(s.drv.cuMemsetD2D16Async(d + 2 * pitch, pitch, 0x1234, 4, 1, CU_STREAM_LEGACY) == CUDA_SUCCESS);
  CHECK(s.drv.cuMemsetD2D32Async(d + 2, pitch, 0, 1, 1, CU_STREAM_LEGACY) == CUDA_ERROR_INVALID_VALUE);
  REQUIRE(s.drv.cuMemcpyDtoHAsync(all.data(), d, all.size(), CU_STREAM_LEGACY) == CUDA_SUCCESS);
  uint32_t word;
  uint16_t half;
  std::memcpy(&word, &all[pitch + 8], 4);
  CHECK(word == 0xA1B2C3D4u);
  std::memcpy(&word, &all[pitch + 12], 4);
  CHECK(word != 0xA1B2C3D4u);  // three words per row only
  std::memcpy(&half, &all[2 * pitch + 6], 2);
  CHECK(half == 0x1234);
  REQUIRE(s.drv.cuMemFree(d) == CUDA_SUCCESS);
}

TEST_CASE("stream work runs later, in order, on another thread; pinned memory is read when the copy runs",
          "[stream]") {
  Session s;
  CUstream st = s.Stream();
  Gate gate;
  void* pinned = nullptr;
  REQUIRE(s.drv.cuMemHostAlloc(&pinned, 4 * sizeof(int), 0) == CUDA_SUCCESS);
  int* host = static_cast<int*>(pinned);
  for (int i = 0; i < 4; ++i) host[i] = 1;
  CUdeviceptr d = s.Alloc(4 * sizeof(int));
  REQUIRE(s.drv.cuLaunchHostFunc(st, &Gate::Hold, &gate) == CUDA_SUCCESS);
  REQUIRE(s.drv.cuMemcpyHtoDAsync(d, host, 4 * sizeof(int), st) == CUDA_SUCCESS);
  REQUIRE(gate.WaitReached());
  CHECK(s.drv.cuStreamQuery(st) == CUDA_ERROR_NOT_READY);
  // The copy has not run: it sees what the buffer holds when it runs.
  for (int i = 0; i < 4; ++i) host[i] = 2;
  gate.Open();
  REQUIRE(s.drv.cuStreamSynchronize(st) == CUDA_SUCCESS);
  CHECK(s.drv.cuStreamQuery(st) == CUDA_SUCCESS);
  CHECK(s.Read(d, 4) == std::vector<int>{2, 2, 2, 2});

  Trace trace;
  trace.items.reserve(200);
  for (int i = 0; i < 200; ++i) {
    trace.items.push_back({&trace, i});
    REQUIRE(s.drv.cuLaunchHostFunc(st, &Trace::Run, &trace.items.back()) == CUDA_SUCCESS);
  }
  REQUIRE(s.drv.cuStreamSynchronize(st) == CUDA_SUCCESS);
  REQUIRE(trace.order.size() == 200);
  for (int i = 0; i < 200; ++i) CHECK(trace.order[i] == i);
  CHECK(trace.threads.front() != std::this_thread::get_id());

  int priority = 0;
  unsigned flags = 0;
  CUstream clamped = nullptr;
  REQUIRE(s.drv.cuStreamCreateWithPriority(&clamped, CU_STREAM_NON_BLOCKING, -10) == CUDA_SUCCESS);
  REQUIRE(s.drv.cuStreamGetPriority(clamped, &priority) == CUDA_SUCCESS);
  REQUIRE(s.drv.cuStreamGetFlags(clamped, &flags) == CUDA_SUCCESS);
  CHECK(priority == -5);
  CHECK(flags == CU_STREAM_NON_BLOCKING);

  // Destroying a stream with work queued: the work still runs.
  Gate late;
  REQUIRE(s.drv.cuLaunchHostFunc(clamped, &Gate::Hold, &late) == CUDA_SUCCESS);
  REQUIRE(s.drv.cuMemsetD8Async(d, 0, 4 * sizeof(int), clamped) == CUDA_SUCCESS);
  REQUIRE(s.drv.cuStreamDestroy(clamped) == CUDA_SUCCESS);
  CHECK(s.drv.cuStreamQuery(clamped) == CUDA_ERROR_INVALID_HANDLE);
  late.Open();
  REQUIRE(s.drv.cuCtxSynchronize() == CUDA_SUCCESS);
  CHECK(s.Read(d, 4) == std::vector<int>{0, 0, 0, 0});
  REQUIRE(s.drv.cuStreamDestroy(st) == CUDA_SUCCESS);
  REQUIRE(s.drv.cuMemFreeHost(pinned) == CUDA_SUCCESS);
  REQUIRE(s.drv.cuMemFree(d) == CUDA_SUCCESS);
}

TEST_CASE("the legacy default stream waits for blocking streams and they wait for it", "[legacy]") {
  Session s;
  CUstream blocking = s.Stream(), later = s.Stream(), independent = s.Stream(CU_STREAM_NON_BLOCKING);
  CUdeviceptr d = s.Alloc(64);
  CUevent on_legacy = s.Event(CU_EVENT_DISABLE_TIMING), on_later = s.Event(CU_EVENT_DISABLE_TIMING),
          on_independent = s.Event(CU_EVENT_DISABLE_TIMING);
  Gate gate;
  REQUIRE(s.drv.cuLaunchHostFunc(blocking, &Gate::Hold, &gate) == CUDA_SUCCESS);
  REQUIRE(gate.WaitReached());
  // Legacy work queued after the blocking stream's held work must wait for it.
  REQUIRE(s.drv.cuMemsetD8Async(d, 7, 64, CU_STREAM_LEGACY) == CUDA_SUCCESS);
  REQUIRE(s.drv.cuEventRecord(on_legacy, nullptr) == CUDA_SUCCESS);
  // A blocking stream's work queued after that legacy work waits for it too.
  REQUIRE(s.drv.cuEventRecord(on_later, later) == CUDA_SUCCESS);
  // A non-blocking stream takes no part.
  REQUIRE(s.drv.cuMemsetD8Async(d, 1, 1, independent) == CUDA_SUCCESS);
  REQUIRE(s.drv.cuEventRecord(on_independent, independent) == CUDA_SUCCESS);
  REQUIRE(s.drv.cuEventSynchronize(on_independent) == CUDA_SUCCESS);
  std::this_thread::sleep_for(50ms);
  CHECK(s.drv.cuEventQuery(on_legacy) == CUDA_ERROR_NOT_READY);
  CHECK(s.drv.cuEventQuery(on_later) == CUDA_ERROR_NOT_READY);
  CHECK(s.drv.cuStreamQuery(CU_STREAM_LEGACY) == CUDA_ERROR_NOT_READY);
  gate.Open();
  REQUIRE(s.drv.cuEventSynchronize(on_later) == CUDA_SUCCESS);
  CHECK(s.drv.cuEventQuery(on_legacy) == CUDA_SUCCESS);
  std::vector<uint8_t> bytes(64);
  REQUIRE(s.drv.cuMemcpyDtoHAsync(bytes.data(), d, 64, CU_STREAM_LEGACY) == CUDA_SUCCESS);
  CHECK(bytes[0] == 7);  // the legacy memset ran after the independent one
  CHECK(bytes[63] == 7);
  for (CUstream st : {blocking, later, independent}) REQUIRE(s.drv.cuStreamDestroy(st) == CUDA_SUCCESS);
  for (CUevent e : {on_legacy, on_later, on_independent}) REQUIRE(s.drv.cuEventDestroy(e) == CUDA_SUCCESS);
  REQUIRE(s.drv.cuMemFree(d) == CUDA_SUCCESS);
}

TEST_CASE("events: queries, timing, stream waits", "[event]") {
  Session s;
  CUstream a = s.Stream(), b = s.Stream(CU_STREAM_NON_BLOCKING);
  CUevent start = s.Event(), end = s.Event(), untimed = s.Event(CU_EVENT_DISABLE_TIMING), never = s.Event();
  float ms = 0;
  CHECK(s.drv.cuEventQuery(never) == CUDA_SUCCESS);
  CHECK(s.drv.cuEventElapsedTime(&ms, never, never) == CUDA_ERROR_INVALID_HANDLE);
  Gate gate;
  REQUIRE(s.drv.cuEventRecord(start, a) == CUDA_SUCCESS);
  REQUIRE(s.drv.cuLaunchHostFunc(a, &Gate::Hold, &gate) == CUDA_SUCCESS);
  REQUIRE(s.drv.cuEventRecord(end, a) == CUDA_SUCCESS);
  REQUIRE(s.drv.cuEventRecordWithFlags(untimed, a, 0) == CUDA_SUCCESS);
  // b waits for `end`; its own event cannot complete before.
  CUevent after_wait = s.Event();
  REQUIRE(s.drv.cuStreamWaitEvent(b, end, 0) == CUDA_SUCCESS);
  REQUIRE(s.drv.cuEventRecord(after_wait, b) == CUDA_SUCCESS);
  REQUIRE(gate.WaitReached());
  CHECK(s.drv.cuEventQuery(end) == CUDA_ERROR_NOT_READY);
  CHECK(s.drv.cuEventElapsedTime(&ms, start, end) == CUDA_ERROR_NOT_READY);
  std::this_thread::sleep_for(60ms);
  CHECK(s.drv.cuEventQuery(after_wait) == CUDA_ERROR_NOT_READY);
  gate.Open();
  REQUIRE(s.drv.cuEventSynchronize(after_wait) == CUDA_SUCCESS);
  CHECK(s.drv.cuEventQuery(end) == CUDA_SUCCESS);
  REQUIRE(s.drv.cuEventElapsedTime(&ms, start, end) == CUDA_SUCCESS);
  CHECK(ms >= 55.0f);
  CHECK(ms < 5000.0f);
  REQUIRE(s.drv.cuEventElapsedTime(&ms, end, start) == CUDA_SUCCESS);
  CHECK(ms <= -55.0f);
  CHECK(s.drv.cuEventElapsedTime(&ms, start, untimed) == CUDA_ERROR_INVALID_HANDLE);
  CHECK(s.drv.cuEventCreate(&never, CU_EVENT_INTERPROCESS) == CUDA_ERROR_INVALID_VALUE);
}

TEST_CASE("a host function holds its stream until it returns", "[host_function]") {
  Session s;
  CUstream st = s.Stream();
  // The first function returns only once the test lets it, then takes a while
  // more: the second must still see it finished.
  struct Slow {
    Gate gate;
    std::atomic<bool> done{false};
    static void CUDA_CB Run(void* data) {
      auto* slow = static_cast<Slow*>(data);
      Gate::Hold(&slow->gate);
      std::this_thread::sleep_for(30ms);
      slow->done = true;
    }
  } slow;
  struct Check {
    Slow* slow;
    bool saw_done = false;
    static void CUDA_CB Run(void* data) {
      auto* c = static_cast<Check*>(data);
      c->saw_done = c->slow->done;
    }
  } check{&slow};
  REQUIRE(s.drv.cuLaunchHostFunc(st, &Slow::Run, &slow) == CUDA_SUCCESS);
  REQUIRE(s.drv.cuLaunchHostFunc(st, &Check::Run, &check) == CUDA_SUCCESS);
  REQUIRE(slow.gate.WaitReached());  // running on the stream's worker while this thread goes on
  CHECK(s.drv.cuStreamQuery(st) == CUDA_ERROR_NOT_READY);
  slow.gate.Open();
  REQUIRE(s.drv.cuStreamSynchronize(st) == CUDA_SUCCESS);
  CHECK(slow.done);
  CHECK(check.saw_done);
  REQUIRE(s.drv.cuStreamDestroy(st) == CUDA_SUCCESS);
}

TEST_CASE("kernels: parameters, module variables, attributes, launch checks", "[kernel]") {
  Session s;
  Module m;
  CUfunction fill = m.Function(s, "_Z4fillPiii");
  size_t offset = 0, size = 0;
  std::vector<std::pair<size_t, size_t>> layout;
  for (size_t i = 0; s.drv.cuFuncGetParamInfo(fill, i, &offset, &size) == CUDA_SUCCESS; ++i) layout.emplace_back(offset, size);
  CHECK(layout == std::vector<std::pair<size_t, size_t>>{{0, 8}, {8, 4}, {12, 4}});

  const int n = 1000;
  CUdeviceptr d = s.Alloc(n * sizeof(int));
  REQUIRE(LaunchFill(s, fill, d, n, 42, nullptr) == CUDA_SUCCESS);
  CHECK(s.Read(d, n) == std::vector<int>(n, 42));
  // The same through a packed buffer ('extra').
  struct {
    CUdeviceptr p;
    int n, value;
  } packed{d, n, -3};
  size_t packed_size = sizeof packed;
  void* extra[] = {CU_LAUNCH_PARAM_BUFFER_POINTER, &packed, CU_LAUNCH_PARAM_BUFFER_SIZE, &packed_size,
                   CU_LAUNCH_PARAM_END};
  REQUIRE(s.drv.cuLaunchKernel(fill, 8, 1, 1, 128, 1, 1, 0, nullptr, nullptr, extra) == CUDA_SUCCESS);
  CHECK(s.Read(d, n) == std::vector<int>(n, -3));

  // A module variable: initialized from the image, changed by a kernel.
  CUdeviceptr counter = 0;
  size_t counter_size = 0;
  REQUIRE(s.drv.cuLibraryGetGlobal(&counter, &counter_size, m.library, "counter") == CUDA_SUCCESS);
  CHECK(counter_size == sizeof(int));
  CHECK(s.Read(counter, 1) == std::vector<int>{5});
  CUfunction bump = m.Function(s, "_Z11bumpCounteri");
  int by = 3;
  void* bump_args[] = {&by};
  REQUIRE(s.drv.cuLaunchKernel(bump, 1, 1, 1, 1, 1, 1, 0, nullptr, bump_args, nullptr) == CUDA_SUCCESS);
  CHECK(s.Read(counter, 1) == std::vector<int>{8});

  // __launch_bounds__(128): reported, and enforced at launch.
  CUfunction bounded = m.Function(s, "_Z7boundedPi");
  int value = 0;
  REQUIRE(s.drv.cuFuncGetAttribute(&value, CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK, bounded) == CUDA_SUCCESS);
  CHECK(value == 128);
  void* bounded_args[] = {&d};
  CHECK(s.drv.cuLaunchKernel(bounded, 1, 1, 1, 256, 1, 1, 0, nullptr, bounded_args, nullptr) ==
        CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES);
  CHECK(s.drv.cuLaunchKernel(bounded, 1, 1, 1, 2048, 1, 1, 0, nullptr, bounded_args, nullptr) ==
        CUDA_ERROR_INVALID_VALUE);

  // Dynamic shared memory above 48 KiB only once the function allows it.
  CHECK(LaunchFill(s, fill, d, n, 1, nullptr, 100 << 10) == CUDA_ERROR_INVALID_VALUE);
  REQUIRE(s.drv.cuFuncSetAttribute(fill, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, 100 << 10) == CUDA_SUCCESS);
  CHECK(LaunchFill(s, fill, d, n, 1, nullptr, 100 << 10) == CUDA_SUCCESS);
  CHECK(s.drv.cuFuncSetAttribute(fill, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, 300 << 10) ==
        CUDA_ERROR_INVALID_VALUE);

  // A kernel without a host implementation is refused at launch.
  CUfunction no_host = m.Function(s, "_Z6noHosti");
  int x = 0;
  void* no_host_args[] = {&x};
  CHECK(s.drv.cuLaunchKernel(no_host, 1, 1, 1, 1, 1, 1, 0, nullptr, no_host_args, nullptr) == CUDA_ERROR_NOT_FOUND);
  CUkernel missing = nullptr;
  CHECK(s.drv.cuLibraryGetKernel(&missing, m.library, "_Z7missingv") == CUDA_ERROR_NOT_FOUND);

  // Occupancy, and the cooperative and cluster checks that follow it.
  int blocks = 0;
  REQUIRE(s.drv.cuOccupancyMaxActiveBlocksPerMultiprocessorWithFlags(&blocks, fill, 1024, 0, 0) == CUDA_SUCCESS);
  CHECK(blocks == 2);
  REQUIRE(s.drv.cuOccupancyMaxActiveBlocksPerMultiprocessorWithFlags(&blocks, fill, 128, 48 << 10, 0) == CUDA_SUCCESS);
  CHECK(blocks == 4);  // 228 KiB per SM over 48 KiB + 1 KiB reserved per block
  int nn = n, v = 9;
  void* args[] = {&d, &nn, &v};
  CUlaunchAttribute coop{};
  coop.id = CU_LAUNCH_ATTRIBUTE_COOPERATIVE;
  coop.value.cooperative = 1;
  CUlaunchConfig config{};
  config.gridDimX = 2 * 4 + 1;  // one block more than 2 per SM x 4 SMs
  config.gridDimY = config.gridDimZ = 1;
  config.blockDimX = 1024;
  config.blockDimY = config.blockDimZ = 1;
  config.attrs = &coop;
  config.numAttrs = 1;
  CHECK(s.drv.cuLaunchKernelEx(&config, fill, args, nullptr) == CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE);
  config.gridDimX = 8;
  CHECK(s.drv.cuLaunchKernelEx(&config, fill, args, nullptr) == CUDA_SUCCESS);
  CUlaunchAttribute cluster{};
  cluster.id = CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION;
  cluster.value.clusterDim.x = 2;
  cluster.value.clusterDim.y = cluster.value.clusterDim.z = 1;
  config.attrs = &cluster;
  config.gridDimX = 3;
  CHECK(s.drv.cuLaunchKernelEx(&config, fill, args, nullptr) == CUDA_ERROR_INVALID_CLUSTER_SIZE);
  config.gridDimX = 4;
  CHECK(s.drv.cuLaunchKernelEx(&config, fill, args, nullptr) == CUDA_SUCCESS);
  CHECK(s.Read(d, n) == std::vector<int>(n, 9));
  REQUIRE(s.drv.cuMemFree(d) == CUDA_SUCCESS);
  REQUIRE(s.drv.cuLibraryUnload(m.library) == CUDA_SUCCESS);
  CHECK(s.drv.cuLaunchKernel(fill, 1, 1, 1, 1, 1, 1, 0, nullptr, args, nullptr) == CUDA_ERROR_INVALID_HANDLE);
  CHECK(s.drv.cuMemcpyHtoDAsync(counter, &by, sizeof by, CU_STREAM_LEGACY) == CUDA_ERROR_INVALID_VALUE);
}

TEST_CASE("graphs: nodes copy their parameters, launches run them in dependency order", "[graph]") {
  Session s;
  Module m;
  CUfunction fill = m.Function(s, "_Z4fillPiii");
  CUfunction add_one = m.Function(s, "_Z6addOnePii");
  const int n = 256;
  CUdeviceptr d = s.Alloc(n * sizeof(int));
  void* pinned = nullptr;
  REQUIRE(s.drv.cuMemHostAlloc(&pinned, n * sizeof(int), 0) == CUDA_SUCCESS);
  CUgraph graph = nullptr;
  REQUIRE(s.drv.cuGraphCreate(&graph, 0) == CUDA_SUCCESS);

  int nn = n, value = 10;
  void* fill_args[] = {&d, &nn, &value};
  CUDA_KERNEL_NODE_PARAMS_v2 kp{};
  kp.func = fill;
  kp.gridDimX = 2;
  kp.gridDimY = kp.gridDimZ = 1;
  kp.blockDimX = 128;
  kp.blockDimY = kp.blockDimZ = 1;
  kp.kernelParams = fill_args;
  CUgraphNode fill_node, add_node, copy_node, host_node, record_node;
  REQUIRE(s.drv.cuGraphAddKernelNode(&fill_node, graph, nullptr, 0, &kp) == CUDA_SUCCESS);
  value = 99;  // copied at creation: the node keeps 10
  void* add_args[] = {&d, &nn};
  kp.func = add_one;
  kp.kernelParams = add_args;
  REQUIRE(s.drv.cuGraphAddKernelNode(&add_node, graph, &fill_node, 1, &kp) == CUDA_SUCCESS);
  CUDA_MEMCPY3D copy{};
  copy.srcMemoryType = CU_MEMORYTYPE_DEVICE;
  copy.srcDevice = d;
  copy.dstMemoryType = CU_MEMORYTYPE_HOST;
  copy.dstHost = pinned;
  copy.WidthInBytes = n * sizeof(int);
  copy.Height = copy.Depth = 1;
  REQUIRE(s.drv.cuGraphAddMemcpyNode(&copy_node, graph, &add_node, 1, &copy, s.ctx) == CUDA_SUCCESS);
  struct Seen {
    void* pinned;
    int first = 0;
    static void CUDA_CB Run(void* data) {
      auto* seen = static_cast<Seen*>(data);
      seen->first = *static_cast<int*>(seen->pinned);
    }
  } seen{pinned};
  CUDA_HOST_NODE_PARAMS hp{&Seen::Run, &seen};
  REQUIRE(s.drv.cuGraphAddHostNode(&host_node, graph, &copy_node, 1, &hp) == CUDA_SUCCESS);
  CUevent done = s.Event();
  REQUIRE(s.drv.cuGraphAddEventRecordNode(&record_node, graph, &host_node, 1, done) == CUDA_SUCCESS);
  CUgraphNode bad;
  CHECK(s.drv.cuGraphAddEmptyNode(&bad, graph, nullptr, 1) == CUDA_ERROR_INVALID_VALUE);

  CUgraphExec exec = nullptr;
  REQUIRE(s.drv.cuGraphInstantiateWithFlags(&exec, graph, 0) == CUDA_SUCCESS);
  CUstream st = s.Stream();
  Gate gate;
  REQUIRE(s.drv.cuLaunchHostFunc(st, &Gate::Hold, &gate) == CUDA_SUCCESS);
  REQUIRE(s.drv.cuGraphLaunch(exec, st) == CUDA_SUCCESS);
  REQUIRE(gate.WaitReached());
  CHECK(s.drv.cuEventQuery(done) == CUDA_ERROR_NOT_READY);  // recorded at launch, reached later
  gate.Open();
  REQUIRE(s.drv.cuEventSynchronize(done) == CUDA_SUCCESS);
  CHECK(seen.first == 11);
  CHECK(std::vector<int>(static_cast<int*>(pinned), static_cast<int*>(pinned) + n) == std::vector<int>(n, 11));

  // Changing the executable graph's fill node affects later launches only.
  value = 20;
  kp.func = fill;
  kp.kernelParams = fill_args;
  REQUIRE(s.drv.cuGraphExecKernelNodeSetParams(exec, fill_node, &kp) == CUDA_SUCCESS);
  CHECK(s.drv.cuGraphExecKernelNodeSetParams(exec, copy_node, &kp) == CUDA_ERROR_INVALID_VALUE);
  REQUIRE(s.drv.cuGraphLaunch(exec, st) == CUDA_SUCCESS);
  REQUIRE(s.drv.cuStreamSynchronize(st) == CUDA_SUCCESS);
  CHECK(seen.first == 21);

  // An update from a graph of another shape is refused.
  CUgraph other = nullptr;
  CUgraphNode lone;
  REQUIRE(s.drv.cuGraphCreate(&other, 0) == CUDA_SUCCESS);
  REQUIRE(s.drv.cuGraphAddEmptyNode(&lone, other, nullptr, 0) == CUDA_SUCCESS);
  CUgraphExecUpdateResultInfo info{};
  CHECK(s.drv.cuGraphExecUpdate(exec, other, &info) == CUDA_ERROR_GRAPH_EXEC_UPDATE_FAILURE);
  CHECK(info.result == CU_GRAPH_EXEC_UPDATE_ERROR_TOPOLOGY_CHANGED);
  // An update from the original graph resets the fill node to its parameters (10).
  REQUIRE(s.drv.cuGraphExecUpdate(exec, graph, &info) == CUDA_SUCCESS);
  CHECK(info.result == CU_GRAPH_EXEC_UPDATE_SUCCESS);
  REQUIRE(s.drv.cuGraphLaunch(exec, st) == CUDA_SUCCESS);
  REQUIRE(s.drv.cuStreamSynchronize(st) == CUDA_SUCCESS);
  CHECK(seen.first == 11);

  REQUIRE(s.drv.cuGraphExecDestroy(exec) == CUDA_SUCCESS);
  REQUIRE(s.drv.cuGraphDestroy(graph) == CUDA_SUCCESS);
  REQUIRE(s.drv.cuGraphDestroy(other) == CUDA_SUCCESS);
  CHECK(s.drv.cuGraphLaunch(exec, st) == CUDA_ERROR_INVALID_HANDLE);
  REQUIRE(s.drv.cuStreamDestroy(st) == CUDA_SUCCESS);
  REQUIRE(s.drv.cuMemFreeHost(pinned) == CUDA_SUCCESS);
  REQUIRE(s.drv.cuMemFree(d) == CUDA_SUCCESS);
}

TEST_CASE("memory pools: stream-ordered allocations, reuse, statistics, trimming", "[mempool]") {
  Session s;
  CUstream st = s.Stream();
  CUmemoryPool pool = nullptr, current = nullptr;
  REQUIRE(s.drv.cuDeviceGetDefaultMemPool(&pool, 0) == CUDA_SUCCESS);
  REQUIRE(s.drv.cuDeviceGetMemPool(&current, 0) == CUDA_SUCCESS);
  CHECK(pool == current);
  auto stat = [&](CUmemoryPool p, CUmemPool_attribute a) {
    cuuint64_t v = 0;
    REQUIRE(s.drv.cuMemPoolGetAttribute(p, a, &v) == CUDA_SUCCESS);
    return v;
  };
  cuuint64_t threshold = 64 << 20;
  REQUIRE(s.drv.cuMemPoolSetAttribute(pool, CU_MEMPOOL_ATTR_RELEASE_THRESHOLD, &threshold) == CUDA_SUCCESS);
  CUdeviceptr a = 0, b = 0;
  REQUIRE(s.drv.cuMemAllocFromPoolAsync(&a, 1 << 20, pool, st) == CUDA_SUCCESS);
  REQUIRE(s.drv.cuMemsetD8Async(a, 5, 1 << 20, st) == CUDA_SUCCESS);
  CHECK(stat(pool, CU_MEMPOOL_ATTR_USED_MEM_CURRENT) == (1u << 20));
  REQUIRE(s.drv.cuMemFreeAsync(a, st) == CUDA_SUCCESS);
  CHECK(s.drv.cuMemFreeAsync(a, st) == CUDA_ERROR_INVALID_VALUE);
  REQUIRE(s.drv.cuStreamSynchronize(st) == CUDA_SUCCESS);
  CHECK(stat(pool, CU_MEMPOOL_ATTR_USED_MEM_CURRENT) == 0);
  CHECK(stat(pool, CU_MEMPOOL_ATTR_RESERVED_MEM_CURRENT) == (1u << 20));  // below the threshold: kept
  CHECK(stat(pool, CU_MEMPOOL_ATTR_USED_MEM_HIGH) == (1u << 20));
  // A freed block is reused.
  REQUIRE(s.drv.cuMemAllocFromPoolAsync(&b, 1 << 20, pool, st) == CUDA_SUCCESS);
  CHECK(b == a);
  REQUIRE(s.drv.cuMemFreeAsync(b, st) == CUDA_SUCCESS);
  REQUIRE(s.drv.cuStreamSynchronize(st) == CUDA_SUCCESS);
  REQUIRE(s.drv.cuMemPoolTrimTo(pool, 0) == CUDA_SUCCESS);
  CHECK(stat(pool, CU_MEMPOOL_ATTR_RESERVED_MEM_CURRENT) == 0);
  cuuint64_t nonzero = 1;
  CHECK(s.drv.cuMemPoolSetAttribute(pool, CU_MEMPOOL_ATTR_USED_MEM_HIGH, &nonzero) == CUDA_ERROR_INVALID_VALUE);
  CHECK(s.drv.cuMemPoolSetAttribute(pool, CU_MEMPOOL_ATTR_USED_MEM_CURRENT, &nonzero) == CUDA_ERROR_INVALID_VALUE);

  // A created pool with a zero threshold gives memory back at the next synchronization.
  CUmemPoolProps props{};
  props.allocType = CU_MEM_ALLOCATION_TYPE_PINNED;
  props.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
  props.location.id = 0;
  CUmemoryPool created = nullptr;
  REQUIRE(s.drv.cuMemPoolCreate(&created, &props) == CUDA_SUCCESS);
  REQUIRE(s.drv.cuMemAllocFromPoolAsync(&a, 3 << 20, created, st) == CUDA_SUCCESS);
  REQUIRE(s.drv.cuMemFreeAsync(a, st) == CUDA_SUCCESS);
  REQUIRE(s.drv.cuStreamSynchronize(st) == CUDA_SUCCESS);
  CHECK(stat(created, CU_MEMPOOL_ATTR_RESERVED_MEM_CURRENT) == 0);
  CHECK(stat(created, CU_MEMPOOL_ATTR_RESERVED_MEM_HIGH) == (3u << 20));
  CHECK(s.drv.cuDeviceSetMemPool(1, created) == CUDA_ERROR_INVALID_VALUE);  // it lives on device 0
  REQUIRE(s.drv.cuMemPoolDestroy(created) == CUDA_SUCCESS);
  CHECK(s.drv.cuMemPoolDestroy(pool) == CUDA_ERROR_INVALID_VALUE);  // the default pool stays
  REQUIRE(s.drv.cuStreamDestroy(st) == CUDA_SUCCESS);
}

TEST_CASE("a faulting kernel breaks the context for good, until the primary context is reset", "[fault]") {
  Session s;
  Module m;
  CUfunction wild = m.Function(s, "_Z9wildWritePi");
  CUstream st = s.Stream();
  CUdeviceptr bogus = 0x1000;
  void* args[] = {&bogus};
  struct Flag {
    bool called = false;
    static void CUDA_CB Run(void* data) { static_cast<Flag*>(data)->called = true; }
  } flag;
  Gate gate;
  REQUIRE(s.drv.cuLaunchHostFunc(st, &Gate::Hold, &gate) == CUDA_SUCCESS);
  // Accepted at launch: the fault happens when it runs.
  REQUIRE(s.drv.cuLaunchKernel(wild, 1, 1, 1, 1, 1, 1, 0, st, args, nullptr) == CUDA_SUCCESS);
  REQUIRE(s.drv.cuLaunchHostFunc(st, &Flag::Run, &flag) == CUDA_SUCCESS);
  gate.Open();
  CHECK(s.drv.cuStreamSynchronize(st) == CUDA_ERROR_ILLEGAL_ADDRESS);
  CHECK(s.drv.cuCtxSynchronize() == CUDA_ERROR_ILLEGAL_ADDRESS);
  CUdeviceptr p = 0;
  CHECK(s.drv.cuMemAlloc(&p, 64) == CUDA_ERROR_ILLEGAL_ADDRESS);
  CHECK_FALSE(flag.called);  // host functions queued behind a fault never run
  // The last release resets the primary context; retaining it again gives a healthy one.
  REQUIRE(s.drv.cuDevicePrimaryCtxRelease(s.dev) == CUDA_SUCCESS);
  CUcontext again = nullptr;
  REQUIRE(s.drv.cuDevicePrimaryCtxRetain(&again, s.dev) == CUDA_SUCCESS);
  REQUIRE(s.drv.cuCtxSetCurrent(again) == CUDA_SUCCESS);
  REQUIRE(s.drv.cuMemAlloc(&p, 64) == CUDA_SUCCESS);
  REQUIRE(s.drv.cuMemFree(p) == CUDA_SUCCESS);
}

TEST_CASE("stream attributes: window, synchronization policy and priority are kept, checked, copied", "[stream]") {
  Session s;
  CUstream a = s.Stream(), b = s.Stream();
  CUdeviceptr d = s.Alloc(1 << 20);
  CUstreamAttrValue v{}, bad{}, got{};
  v.accessPolicyWindow = {reinterpret_cast<void*>(d), 1 << 19, 0.5f, CU_ACCESS_PROPERTY_PERSISTING,
                          CU_ACCESS_PROPERTY_STREAMING};
  REQUIRE(s.drv.cuStreamSetAttribute(a, CU_LAUNCH_ATTRIBUTE_ACCESS_POLICY_WINDOW, &v) == CUDA_SUCCESS);
  bad.accessPolicyWindow = {nullptr, 0, 1.5f, CU_ACCESS_PROPERTY_NORMAL, CU_ACCESS_PROPERTY_NORMAL};
  CHECK(s.drv.cuStreamSetAttribute(a, CU_LAUNCH_ATTRIBUTE_ACCESS_POLICY_WINDOW, &bad) == CUDA_ERROR_INVALID_VALUE);
  bad.accessPolicyWindow = {nullptr, size_t{1} << 40, 0.5f, CU_ACCESS_PROPERTY_NORMAL, CU_ACCESS_PROPERTY_NORMAL};
  CHECK(s.drv.cuStreamSetAttribute(a, CU_LAUNCH_ATTRIBUTE_ACCESS_POLICY_WINDOW, &bad) == CUDA_ERROR_INVALID_VALUE);
  bad.syncPolicy = static_cast<CUsynchronizationPolicy>(9);
  CHECK(s.drv.cuStreamSetAttribute(a, CU_LAUNCH_ATTRIBUTE_SYNCHRONIZATION_POLICY, &bad) == CUDA_ERROR_INVALID_VALUE);
  v.syncPolicy = CU_SYNC_POLICY_SPIN;
  REQUIRE(s.drv.cuStreamSetAttribute(a, CU_LAUNCH_ATTRIBUTE_SYNCHRONIZATION_POLICY, &v) == CUDA_SUCCESS);
  v.priority = -100;  // clamped to the greatest
  REQUIRE(s.drv.cuStreamSetAttribute(a, CU_LAUNCH_ATTRIBUTE_PRIORITY, &v) == CUDA_SUCCESS);
  REQUIRE(s.drv.cuStreamCopyAttributes(b, a) == CUDA_SUCCESS);
  for (CUstream st : {a, b}) {
    REQUIRE(s.drv.cuStreamGetAttribute(st, CU_LAUNCH_ATTRIBUTE_ACCESS_POLICY_WINDOW, &got) == CUDA_SUCCESS);
    CHECK((got.accessPolicyWindow.base_ptr == reinterpret_cast<void*>(d) && got.accessPolicyWindow.num_bytes == 1 << 19 &&
           got.accessPolicyWindow.hitRatio == 0.5f && got.accessPolicyWindow.missProp == CU_ACCESS_PROPERTY_STREAMING));
    REQUIRE(s.drv.cuStreamGetAttribute(st, CU_LAUNCH_ATTRIBUTE_SYNCHRONIZATION_POLICY, &got) == CUDA_SUCCESS);
    CHECK(got.syncPolicy == CU_SYNC_POLICY_SPIN);
    int priority = 0;
    REQUIRE(s.drv.cuStreamGetPriority(st, &priority) == CUDA_SUCCESS);
    CHECK(priority == -5);  // fake::gpu::kStreamPriorityGreatest
  }
  CHECK(s.drv.cuStreamGetAttribute(a, CU_LAUNCH_ATTRIBUTE_COOPERATIVE, &got) == CUDA_ERROR_INVALID_VALUE);
}
