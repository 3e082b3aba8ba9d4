// TEST EQUIPMENT: the state of the fake CUDA driver (libcuda.so.1 on host
// memory, see README.md). Nothing here is a GPU.
//
// One mutex guards all of it and one condition variable announces every
// change (an operation finished, work was queued, a stream was destroyed):
// the fake is for correctness, not speed, and a single lock keeps the
// reasoning about stream ordering simple. Work queued on streams runs on one
// worker thread per stream, without the lock (stream_engine.h).
#pragma once

#include <cuda.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "tests/fake_driver/memory_map.h"

namespace fake {

// Writes one line to stderr, marked as coming from test equipment.
void Log(const char* format, ...) __attribute__((format(printf, 1, 2)));

// RCUDA_FAKE_DRIVER_TRACE: 1 logs every failing call, 2 every call.
int TraceLevel();

struct Stream;
struct MemoryPool;

// A device's primary context (the only kind the fake has).
struct Context {
  int device = 0;
  int retained = 0;
  bool active = false;  // retained at least once and not released to zero since
  // A kernel fault breaks the context for good, as on a GPU: every later call
  // that uses it returns this (CUresult; 0 while healthy).
  std::atomic<int> sticky{0};
  Stream* legacy = nullptr;       // the legacy default stream
  std::vector<Stream*> streams;   // created streams, including destroyed ones still draining
  std::array<size_t, CU_LIMIT_MAX> limits{};
  CUfunc_cache cache_config = CU_FUNC_CACHE_PREFER_NONE;
  // Device printf not yet written to fd 1 (device_printf.h).
  std::string printf_fifo;
};

struct Device {
  int ordinal = 0;
  uint64_t total_memory = 0;
  uint64_t used_memory = 0;  // allocations and memory pools' reserved memory
  Context primary;
  MemoryPool* default_pool = nullptr;
  MemoryPool* current_pool = nullptr;
  std::vector<MemoryPool*> pools;  // live pools located on the device
};

// The handles the fake hands out, so that every call can refuse one it does
// not know (CUDA_ERROR_INVALID_HANDLE) instead of crashing.
class HandleSet {
 public:
  void Add(const void* h) { live_.insert(h); }
  void Remove(const void* h) { live_.erase(h); }
  bool Has(const void* h) const { return h && live_.count(h); }

 private:
  std::unordered_set<const void*> live_;
};

// A CUDA array: device memory of its own, rows packed (pitch = width x
// element bytes), slices (or layers) packed after each other.
struct Array {
  uint64_t base = 0;  // in device_memory, Allocation::Kind::kArray
  uint64_t bytes = 0;
  uint64_t width = 0, height = 1, depth = 1;  // elements; 1 for an absent dimension
  uint32_t element_bytes = 0;
  CUarray_format format{};
  unsigned channels = 0;
  unsigned flags = 0;
  const void* mipmap = nullptr;  // a level of this CUmipmappedArray: freed with it only
  uint64_t pitch() const { return width * element_bytes; }
};

// A mipmapped array: its levels, each an Array of `arrays` (level l of
// extent max(1, extent >> l); protocol/array_format.h).
struct MipmappedArray {
  std::vector<CUarray> levels;
};

// A texture or surface object: its resource and how it is sampled.
struct SampledObject {
  const MipmappedArray* mipmap = nullptr;  // a mipmapped array resource: `array` is its level 0
  CUfilter_mode mipmap_filter{};
  float level_bias = 0, min_level_clamp = 0, max_level_clamp = 0;
  const Array* array = nullptr;  // an array resource; else linear memory:
  uint64_t base = 0, width = 0, height = 1, pitch = 0;
  uint32_t element_bytes = 0;
  CUarray_format format{};
  unsigned channels = 0;
  CUaddress_mode address[3]{};
  CUfilter_mode filter{};
  unsigned flags = 0;
  float border[4]{};
};

struct Driver {
  std::mutex mu;
  std::condition_variable cv;  // notified on every change of state

  bool initialized = false;
  std::vector<std::unique_ptr<Device>> devices;

  HandleSet streams, events, libraries, kernels, graphs, graph_nodes, graph_execs, pools;
  MemoryMap device_memory;  // cuMemAlloc(Pitch), pool allocations, module variables
  MemoryMap pinned_memory;  // cuMemHostAlloc, cuMemHostRegister
  std::unordered_map<const void*, std::unique_ptr<Array>> arrays;  // by CUarray
  std::unordered_map<const void*, std::unique_ptr<MipmappedArray>> mipmaps;  // by CUmipmappedArray
  std::unordered_map<uint64_t, SampledObject> textures, surfaces;  // by CUtexObject, CUsurfObject
  uint64_t next_object = 1;
};

// The one instance; never destroyed, so that worker threads still blocked at
// process exit find it intact.
Driver& D();

// Reads the environment (device count, memory size, host kernel plugins) and
// creates the devices. Called by cuInit with the lock held.
CUresult Initialize();

// The calling thread's current context, checked for use: the driver is
// initialized, a context is current and active, and it has not faulted.
// Call with the lock held.
CUresult UsableContext(Context** ctx);

// Sets the calling thread's current context (nullptr: none).
void SetCurrentContext(Context* ctx);
Context* CurrentContext();

CUresult DeviceOf(CUdevice dev, Device** device);

// Breaks `ctx` for good with `error` (a kernel fault) unless it already is.
void MakeSticky(Context* ctx, CUresult error, const std::string& why);

int64_t NowNanos();

}  // namespace fake
