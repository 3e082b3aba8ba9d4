// The Executor that drives a GPU through the CUDA driver API (cuda_driver.h):
// a real GPU with `--backend cuda`, the fake libcuda.so.1 of
// tests/fake_driver (TEST EQUIPMENT) with `--backend test`.
//
// One class, its methods in one file per area:
//   cuda_executor.cc             the driver, the device and its context
//   cuda_executor_memory.cc      allocation, copies and fills, their staging
//   cuda_executor_modules.cc     modules, kernels and launches
//   cuda_executor_streams.cc     streams, events, host functions
//   cuda_executor_waits.cc       waiting for the GPU: one driver call where
//                                the program makes one, blocking events
//   cuda_executor_graphs.cc      graphs
//   cuda_executor_pools.cc       memory pools, stream-ordered allocation
//   cuda_executor_host_memory.cc host memory shared by a local client,
//                                registered with the driver
//   cuda_executor_attributes.cc  limits, cache configuration, function
//                                attributes and occupancy
//
// Threads. The worker's main thread opens the executor and then runs the
// session loop: it is the only caller of the Executor interface, and all of
// the executor's own state belongs to it (GUARDED_BY(session_thread_)).
// Other threads get only what they need, by value or through objects safe
// for any thread:
//   - the driver's threads run host functions and deliveries
//     (driver_callbacks.h): they use the host channel and the pinned pool;
//   - the worker's wait pool runs the waits of PrepareWait and
//     PrepareCopyFromDevice: they capture driver handles and the driver's
//     entry points (drv_, written by Open before any other use and
//     read-only afterwards), give buffers back to the pinned pool and
//     their blocking events to wait_events_ (locked);
//   - the host budget is atomic.
#pragma once

#include <cuda.h>

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <set>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/cuda_error_codes.h"
#include "common/thread_annotations.h"
#include "protocol/call_ops.h"
#include "server/cuda_driver.h"
#include "server/driver_callbacks.h"
#include "server/executor.h"
#include "server/host_budget.h"
#include "server/pinned_pool.h"
#include "server/wait_events.h"

namespace rcuda {

// A thread role for Clang's analysis: holding it means running on the
// thread that owns the state it guards. No lock: nothing to acquire.
class CAPABILITY("role") ThreadRole {};

class CudaExecutor final : public Executor {
 public:
  explicit CudaExecutor(const ExecutorOptions& options);
  ~CudaExecutor() override;
  CudaExecutor(const CudaExecutor&) = delete;
  CudaExecutor& operator=(const CudaExecutor&) = delete;

  // ---- The device and its context (cuda_executor.cc)
  Status Open(int gpu) REQUIRES(session_thread_) override;
  Status Describe(DeviceDescription* description) REQUIRES(session_thread_) override;
  Status Synchronize() REQUIRES(session_thread_) override;

  // ---- Memory, copies and fills (cuda_executor_memory.cc)
  Status Allocate(uint64_t size, uint64_t* ptr) REQUIRES(session_thread_) override;
  Status Free(uint64_t ptr) REQUIRES(session_thread_) override;
  Status MemGetInfo(uint64_t* free, uint64_t* total) REQUIRES(session_thread_) override;
  Status AllocatePitch(uint64_t width, uint64_t height, uint64_t* ptr, uint64_t* pitch)
      REQUIRES(session_thread_) override;
  Status CopyToDevice(uint64_t dst, uint64_t size, uint64_t stream, const ChunkReader& read)
      REQUIRES(session_thread_) override;
  Status CopyFromDevice(uint64_t src, uint64_t size, uint64_t stream, const ChunkWriter& write)
      REQUIRES(session_thread_) override;
  Status PrepareCopyFromDevice(uint64_t src, uint64_t size, uint64_t stream, std::function<Status()>* wait,
                               const void** data, std::function<void()>* release) REQUIRES(session_thread_) override;
  Status CopyOnDevice(uint64_t dst, uint64_t src, uint64_t size, uint64_t stream) REQUIRES(session_thread_) override;
  Status Memset(uint64_t dst, uint8_t value, uint64_t size, uint64_t stream) REQUIRES(session_thread_) override;
  Status CopyToDevice3D(const Copy3D& copy, uint64_t stream, const ChunkReader& read)
      REQUIRES(session_thread_) override;
  Status CopyFromDevice3D(const Copy3D& copy, uint64_t stream, const ChunkWriter& write)
      REQUIRES(session_thread_) override;
  Status CopyFromDevice3DAsync(const Copy3D& copy, uint64_t stream, uint64_t pending)
      REQUIRES(session_thread_) override;
  Status CopyOnDevice3D(const Copy3D& copy, uint64_t stream) REQUIRES(session_thread_) override;
  Status Memset3D(const Set3D& set, uint64_t stream) REQUIRES(session_thread_) override;

  // ---- Modules and launches (cuda_executor_modules.cc)
  Status LoadModule(std::string_view fatbin, const std::vector<std::string>& functions,
                    const std::vector<std::string>& variables, uint64_t* module, ModuleDescription* description)
      REQUIRES(session_thread_) override;
  Status UnloadModule(uint64_t module) REQUIRES(session_thread_) override;
  Status Launch(uint64_t function, Dim3 grid, Dim3 block, uint32_t shared_bytes, uint64_t stream,
                std::span<const uint8_t> params, const LaunchOptions& options) REQUIRES(session_thread_) override;

  // ---- Streams, events, host functions, waits (cuda_executor_streams.cc)
  Status StreamPriorityRange(int32_t* least, int32_t* greatest) REQUIRES(session_thread_) override;
  Status StreamCreate(uint32_t flags, int32_t priority, uint64_t* stream) REQUIRES(session_thread_) override;
  Status StreamDestroy(uint64_t stream) REQUIRES(session_thread_) override;
  Status StreamSynchronize(uint64_t stream) REQUIRES(session_thread_) override;
  Status StreamQuery(uint64_t stream) REQUIRES(session_thread_) override;
  Status StreamSetAccessPolicyWindow(uint64_t stream, uint64_t base, uint64_t bytes, float hit_ratio,
                                     uint32_t hit_prop, uint32_t miss_prop) REQUIRES(session_thread_) override;
  Status StreamSetAttributeValue(uint64_t stream, uint32_t attr, int32_t value) REQUIRES(session_thread_) override;
  Status StreamGetAttributes(uint64_t stream, uint64_t* window_base, uint64_t* window_bytes, float* hit_ratio,
                             uint32_t* hit_prop, uint32_t* miss_prop, uint32_t* sync_policy, int32_t* priority)
      REQUIRES(session_thread_) override;
  Status StreamCopyAttributes(uint64_t dst, uint64_t src) REQUIRES(session_thread_) override;
  Status StreamWaitEvent(uint64_t stream, uint64_t event, uint32_t flags) REQUIRES(session_thread_) override;
  Status EventCreate(uint32_t flags, uint64_t* event) REQUIRES(session_thread_) override;
  Status EventDestroy(uint64_t event) REQUIRES(session_thread_) override;
  Status EventRecord(uint64_t event, uint64_t stream, uint32_t flags) REQUIRES(session_thread_) override;
  Status EventSynchronize(uint64_t event) REQUIRES(session_thread_) override;
  Status EventQuery(uint64_t event) REQUIRES(session_thread_) override;
  Status EventElapsedTime(uint64_t start, uint64_t end, float* milliseconds) REQUIRES(session_thread_) override;
  Status LaunchHostFunction(uint64_t stream, uint64_t id) REQUIRES(session_thread_) override;
  Status Query(WaitTarget target, uint64_t handle) REQUIRES(session_thread_) override;
  Status PrepareWait(WaitTarget target, uint64_t handle, std::function<Status()>* wait)
      REQUIRES(session_thread_) override;
  Status SettleWait(WaitTarget target, uint64_t handle) REQUIRES(session_thread_) override;

  // ---- Graphs (cuda_executor_graphs.cc)
  Status GraphInstantiate(const std::vector<GraphNodeSpec>& nodes, uint64_t* exec) REQUIRES(session_thread_) override;
  Status GraphLaunch(uint64_t exec, uint64_t stream, uint64_t input_bytes, const ChunkReader& read)
      REQUIRES(session_thread_) override;
  Status GraphExecDestroy(uint64_t exec) REQUIRES(session_thread_) override;
  Status GraphExecKernelNodeSetParams(uint64_t exec, uint32_t node, const GraphNodeSpec& kernel)
      REQUIRES(session_thread_) override;
  Status GraphExecUpdate(uint64_t exec, const std::vector<GraphNodeSpec>& nodes) REQUIRES(session_thread_) override;

  // ---- The generic calls (cuda_executor_attributes.cc, _pools.cc)
  Status Call(uint32_t op, std::span<const int64_t> args, std::vector<int64_t>* values)
      REQUIRES(session_thread_) override;
  Status ProfilerStart() REQUIRES(session_thread_) override;

  // ---- CUDA arrays, texture and surface objects (cuda_executor_arrays.cc)
  Status ArrayCopyFromHost(uint64_t array, uint64_t x, uint64_t y, uint64_t width, uint64_t height, uint64_t stream,
                           const ChunkReader& read) REQUIRES(session_thread_) override;
  Status ArrayCopyToHost(uint64_t array, uint64_t x, uint64_t y, uint64_t width, uint64_t height, uint64_t stream,
                         const ChunkWriter& write) REQUIRES(session_thread_) override;
  Status ArrayCopyDevice(uint64_t array, uint64_t x, uint64_t y, uint64_t device, uint64_t pitch, uint64_t width,
                         uint64_t height, bool to_array, uint64_t stream) REQUIRES(session_thread_) override;
  Status ProfilerStop() REQUIRES(session_thread_) override;
  Status NativeStream(uint64_t stream, void** native) REQUIRES(session_thread_) override;
  Status StreamHandleOf(void* native, uint64_t* stream) REQUIRES(session_thread_) override;

  // ---- Registered host memory (cuda_executor_host_memory.cc) --------------
  Status RegisterHostMemory(void* host, uint64_t size) REQUIRES(session_thread_) override;
  Status UnregisterHostMemory(void* host) REQUIRES(session_thread_) override;
  Status CopyRegistered(uint64_t device, void* host, uint64_t size, bool to_device, uint64_t stream, bool wait)
      REQUIRES(session_thread_) override;
  Status RegisteredDevicePointer(void* host, uint64_t* device) REQUIRES(session_thread_) override;

 private:
  // Host-device copies go through pinned staging buffers in chunks, two in
  // flight, so that receiving chunk i+1 from the network overlaps copying
  // chunk i over PCIe (and the other way round for device to host).
  static constexpr size_t kStagingChunk = 8 << 20;
  // Upload staging grows to this many chunks (128 MiB) per session.
  static constexpr size_t kUploadChunks = 16;
  // A device-to-host copy behind busy work gets its own pinned buffer up to
  // this size (larger ones hold up the session while they wait).
  static constexpr size_t kDeferredCopyMax = 64 << 20;
  static constexpr int kInvalidResourceHandle = kCudaErrorInvalidResourceHandle;

  // A generic call's arguments; missing ones read 0.
  struct CallArgs {
    std::span<const int64_t> args;
    int64_t operator()(size_t i) const { return i < args.size() ? args[i] : 0; }
  };

  // A pinned staging buffer and the event of the copy that last used it.
  struct Staging {
    void* host = nullptr;
    CUevent event = nullptr;
  };

  struct FunctionEntry {
    CUfunction function;
    std::vector<KernelParamInfo> params;
    uint64_t module = 0;
    bool live = true;  // false once its module is unloaded
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
    std::vector<std::unique_ptr<HostFunctionCall>> host_calls;
    std::vector<std::pair<void*, size_t>> staging;  // pinned buffers owned by the graph
    std::set<uint64_t> modules;  // of its kernels
    bool dead = false;           // one of them was unloaded
  };

  // A failed driver call as a Status (any thread).
  Status Check(CUresult r, const char* what) const;

  // Handles the session knows: 0 is the legacy stream.
  Status StreamOf(uint64_t handle, CUstream* stream) REQUIRES(session_thread_);
  Status EventOf(uint64_t handle, CUevent* event) REQUIRES(session_thread_);
  // The live function behind a handle.
  Status FunctionOf(uint64_t handle, const FunctionEntry** f) REQUIRES(session_thread_);
  // Pointers to each parameter inside a packed buffer, for the driver calls
  // that take kernelParams.
  static Status ParamPointers(const FunctionEntry& f, std::span<const uint8_t> params, std::vector<void*>* pointers);

  // Waits (cuda_executor_streams.cc): the streams on which a wait handed to
  // the pool records its blocking events; the session's private stream.
  Status WaitMarks(WaitTarget target, uint64_t handle, std::vector<CUstream>* marks, CUevent* event)
      REQUIRES(session_thread_);
  Status WaitStream(CUstream* stream) REQUIRES(session_thread_);

  // Memory (cuda_executor_memory.cc).
  Status AcquireUpload(Staging* out) REQUIRES(session_thread_);
  Status WaitForDownloadStaging() REQUIRES(session_thread_);

  // Graphs (cuda_executor_graphs.cc).
  Status BuildGraph(const std::vector<GraphNodeSpec>& specs, GraphExec* g) REQUIRES(session_thread_);
  Status AddGraphNode(const GraphNodeSpec& n, const std::vector<CUgraphNode>& deps, GraphExec* g, CUgraphNode* node,
                      CUgraphNode* tail) REQUIRES(session_thread_);
  Status AddMemcpyNode(const GraphNodeSpec& n, const std::vector<CUgraphNode>& deps, GraphExec* g, CUgraphNode* node,
                       CUgraphNode* tail) REQUIRES(session_thread_);
  Status KernelNodeParams(const GraphNodeSpec& n, CUDA_KERNEL_NODE_PARAMS* p, std::vector<void*>* pointers)
      REQUIRES(session_thread_);
  void* AllocateStaging(GraphExec* g, size_t size) REQUIRES(session_thread_);
  void FreeStaging(std::vector<std::pair<void*, size_t>>* staging) REQUIRES(session_thread_);
  void DestroyGraph(GraphExec* g) REQUIRES(session_thread_);
  Status GraphOf(uint64_t handle, GraphExec** g) REQUIRES(session_thread_);

  // The generic calls, by area.
  Status DeviceCall(CallOp op, const CallArgs& arg, std::vector<int64_t>* values) REQUIRES(session_thread_);
  Status FunctionCall(CallOp op, const CallArgs& arg, std::vector<int64_t>* values) REQUIRES(session_thread_);
  Status ClusterCall(CallOp op, const CallArgs& arg, std::vector<int64_t>* values) REQUIRES(session_thread_);
  Status PoolCall(CallOp op, const CallArgs& arg, std::vector<int64_t>* values) REQUIRES(session_thread_);
  Status StreamInfoCall(const CallArgs& arg, std::vector<int64_t>* values) REQUIRES(session_thread_);
  Status PoolOf(int64_t handle, CUmemoryPool* pool) REQUIRES(session_thread_);
  Status ArrayCall(CallOp op, const CallArgs& arg, std::vector<int64_t>* values) REQUIRES(session_thread_);
  Status TextureCall(CallOp op, const CallArgs& arg, std::vector<int64_t>* values) REQUIRES(session_thread_);
  Status MipmapCall(CallOp op, const CallArgs& arg, std::vector<int64_t>* values) REQUIRES(session_thread_);
  // The texture object TexObjectCreate or TexObjectCreateMipmapped describes.
  Status CreateTexture(const CUDA_RESOURCE_DESC& resource, CUDA_TEXTURE_DESC* texture, int64_t address,
                       int64_t filter, int64_t flags, int64_t border_rg, int64_t border_ba,
                       std::vector<int64_t>* values) REQUIRES(session_thread_);

  // A CUDA array of the session: its shape, for checking copies.
  struct ArrayEntry {
    CUarray array = nullptr;
    uint64_t row_bytes = 0;  // width x element bytes
    uint64_t height = 1;
    uint64_t depth = 1;
    uint64_t mipmap = 0;  // a level of this mipmapped array: freed with it, never alone
  };
  // A mipmapped array of the session: its levels' shapes, and the level
  // handles the session has been given (arrays_ entries it owns).
  struct MipmapEntry {
    CUmipmappedArray mipmap = nullptr;
    int64_t width = 0, height = 0, depth = 0, format = 0, channels = 0, levels = 0;
    bool layered = false;
    std::set<uint64_t> level_handles;
  };
  // The entry behind an array handle; the one of a copy's rectangle, whose
  // rows count across the layers (row y of layer z is row z * height + y),
  // checked inside the array.
  Status ArrayOf(uint64_t handle, const ArrayEntry** entry) REQUIRES(session_thread_);
  Status ArrayRectangle(uint64_t handle, uint64_t x, uint64_t y, uint64_t width, uint64_t height,
                        const ArrayEntry** entry) REQUIRES(session_thread_);
  // Host to array (`read`) or back (`write`), in bands of a staging chunk.
  Status ArrayCopyHost(uint64_t handle, uint64_t x, uint64_t y, uint64_t width, uint64_t height, uint64_t stream,
                       bool to_array, const ChunkReader* read, const ChunkWriter* write) REQUIRES(session_thread_);
  int64_t PoolHandle(CUmemoryPool pool) REQUIRES(session_thread_);

  ThreadRole session_thread_;

  const ExecutorOptions options_;
  // The driver's entry points: set by Open, read-only afterwards (any thread).
  CudaDriver drv_;
  CUdevice device_ GUARDED_BY(session_thread_) = 0;
  CUcontext context_ GUARDED_BY(session_thread_) = nullptr;

  std::array<Staging, 2> download_staging_ GUARDED_BY(session_thread_);  // device-to-host copies
  // A copy through download_staging_ returned before waiting for all it issued.
  bool download_staging_pending_ GUARDED_BY(session_thread_) = false;
  std::vector<Staging> upload_free_ GUARDED_BY(session_thread_);          // host-to-device copies
  std::deque<Staging> upload_busy_ GUARDED_BY(session_thread_);
  size_t upload_count_ GUARDED_BY(session_thread_) = 0;

  std::unordered_map<uint64_t, CUlibrary> libraries_ GUARDED_BY(session_thread_);
  std::vector<FunctionEntry> functions_ GUARDED_BY(session_thread_);  // handle = index + 1
  uint64_t next_module_ GUARDED_BY(session_thread_) = 0;
  uint64_t next_handle_ GUARDED_BY(session_thread_) = 0x1000;
  std::unordered_map<uint64_t, CUstream> streams_ GUARDED_BY(session_thread_);
  std::unordered_map<uint64_t, CUevent> events_ GUARDED_BY(session_thread_);
  std::unordered_map<uint64_t, std::unique_ptr<GraphExec>> graphs_ GUARDED_BY(session_thread_);
  std::unordered_map<int64_t, CUmemoryPool> pools_ GUARDED_BY(session_thread_);
  // Arrays by handle (the CUarray's value); the texture and surface objects
  // the session made (their values are the driver's: kernels take them).
  std::unordered_map<uint64_t, ArrayEntry> arrays_ GUARDED_BY(session_thread_);
  std::unordered_map<uint64_t, MipmapEntry> mipmaps_ GUARDED_BY(session_thread_);  // by the CUmipmappedArray's value
  std::set<uint64_t> textures_ GUARDED_BY(session_thread_);
  std::set<uint64_t> surfaces_ GUARDED_BY(session_thread_);
  // Events the program created with CU_EVENT_BLOCKING_SYNC: waited on as they are.
  std::set<uint64_t> blocking_events_ GUARDED_BY(session_thread_);

  // Waits. The blocking events of the pool's waits (any thread gives them
  // back; shared with waits that may outlive the executor as the process ends).
  const std::shared_ptr<WaitEvents> wait_events_ = std::make_shared<WaitEvents>(&drv_);
  // A private non-blocking stream that waits for a program's ordinary event,
  // so that a blocking event recorded behind it completes with it (created
  // on first use).
  CUstream wait_stream_ GUARDED_BY(session_thread_) = nullptr;
  // Stream-ordered frees (or a pool attribute set) since a synchronizing
  // call last found the whole session idle: until then a synchronization
  // that Query finds done still makes the driver's synchronizing call
  // (SettleWait). Set on a stream's destruction too while frees are
  // pending: only a context synchronization then covers its work.
  bool pool_release_pending_ GUARDED_BY(session_thread_) = false;
  bool pool_frees_on_destroyed_stream_ GUARDED_BY(session_thread_) = false;
  // A kernel or graph launched since the last synchronizing call: a kernel
  // may have printed, and the driver writes that out at a synchronizing
  // call only (SettleWait).
  bool launched_since_sync_ GUARDED_BY(session_thread_) = false;

  HostBudget host_budget_;  // atomic: any thread
  PinnedPool pinned_pool_;  // locked: any thread
};

std::unique_ptr<Executor> NewCudaExecutor(const ExecutorOptions& options);

}  // namespace rcuda
