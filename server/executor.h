// Executor: the GPU as a session worker sees it. One instance per worker
// process, so per client session. One implementation, CudaExecutor (the CUDA
// driver API): on the node's driver, or with the test backend on the fake
// libcuda.so.1 of tests/fake_driver (TEST EQUIPMENT: host memory, host
// kernels).
//
// Handles (device pointers, modules, functions, streams) are uint64 values
// the executor hands out. The session worker validates device pointer ranges
// (common/allocation_table.h) and handles (server/handle_table.h) before
// calling in, from the operations' descriptions (protocol/rpc/); the executor
// validates the handles it owns again.
//
// The types both sides share (DeviceDescription, ModuleDescription,
// LaunchOptions, GraphNodeSpec, Copy3D, Set3D) are protocol/'s.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/cuda_error_codes.h"
#include "common/fatbin.h"
#include "common/status.h"
#include "protocol/device_description.h"
#include "protocol/graph_node_spec.h"
#include "protocol/launch_options.h"
#include "protocol/module_description.h"

namespace rcuda {

// Produces the next `size` bytes of an incoming payload into `dst`.
using ChunkReader = std::function<Status(void* dst, size_t size)>;
// Consumes the next `size` bytes of an outgoing payload.
using ChunkWriter = std::function<Status(const void* src, size_t size)>;

// Stream handle 0 is the legacy default stream.
inline constexpr uint64_t kLegacyStream = 0;

// How stream-ordered work reaches the client: the session's host channel.
// Both calls block until the client has done its part, which is what keeps
// the stream in order behind them. They may be called from driver threads.
class HostChannel {
 public:
  virtual ~HostChannel() = default;
  // Runs the client's host function `id`.
  virtual Status RunHostFunction(uint64_t id) = 0;
  // Hands `size` bytes to the client's pending copy `id`.
  virtual Status DeliverToHost(uint64_t id, const void* data, size_t size) = 0;
  // The same for bytes that `produce` writes piece by piece, so that a large
  // copy needs no buffer of its whole size.
  virtual Status DeliverToHostFrom(uint64_t id, uint64_t size,
                                   const std::function<Status(const ChunkWriter&)>& produce) = 0;
};

class Executor {
 public:
  virtual ~Executor() = default;

  // Selects the GPU and creates the session's context.
  virtual Status Open(int gpu) = 0;
  virtual Status Describe(DeviceDescription* description) = 0;

  virtual Status Allocate(uint64_t size, uint64_t* ptr) = 0;
  virtual Status Free(uint64_t ptr) = 0;
  virtual Status MemGetInfo(uint64_t* free, uint64_t* total) = 0;

  // Host to device: pulls `size` bytes through `read`, in chunks of the
  // executor's choosing (so it can overlap the transfer with the copy).
  virtual Status CopyToDevice(uint64_t dst, uint64_t size, uint64_t stream, const ChunkReader& read) = 0;
  // Device to host: waits for earlier work on `stream`, then pushes the
  // bytes through `write`. An error before the first write means no byte
  // was produced.
  virtual Status CopyFromDevice(uint64_t src, uint64_t size, uint64_t stream, const ChunkWriter& write) = 0;
  // Device to host for a stream that is still busy, without holding up the
  // session: queues the copy into host memory the executor owns and returns
  // a wait to run on another thread (it touches none of the executor's
  // state), after which `*data` holds the bytes, and a `release` that gives
  // that memory back (from any thread, after the wait). kNotSupported: copy
  // with CopyFromDevice instead.
  virtual Status PrepareCopyFromDevice(uint64_t src, uint64_t size, uint64_t stream, std::function<Status()>* wait,
                                       const void** data, std::function<void()>* release) {
    (void)src, (void)size, (void)stream, (void)wait, (void)data, (void)release;
    return Status::NotSupported("deferred device-to-host copies");
  }
  virtual Status CopyOnDevice(uint64_t dst, uint64_t src, uint64_t size, uint64_t stream) = 0;
  virtual Status Memset(uint64_t dst, uint8_t value, uint64_t size, uint64_t stream) = 0;

  // Loads a fatbinary and describes the named kernels and variables, in
  // order. A name the image lacks is reported as not found, not an error.
  virtual Status LoadModule(std::string_view fatbin, const std::vector<std::string>& functions,
                            const std::vector<std::string>& variables, uint64_t* module,
                            ModuleDescription* description) = 0;
  // Unloads a module: its functions, and graphs that launch them, are
  // refused from then on (cudaErrorInvalidResourceHandle).
  virtual Status UnloadModule(uint64_t module) = 0;

  virtual Status Launch(uint64_t function, Dim3 grid, Dim3 block, uint32_t shared_bytes, uint64_t stream,
                        std::span<const uint8_t> params, const LaunchOptions& options) = 0;

  virtual Status Synchronize() = 0;

  // ---- The rest of the runtime API ---------------------------------------

  // Where stream-ordered host work goes; set by the session before use.
  void set_host_channel(HostChannel* channel) { host_channel_ = channel; }

  virtual Status StreamPriorityRange(int32_t* least, int32_t* greatest) = 0;

  // Strided copies; see Copy3D. CopyToDevice3D reads the packed host data
  // through `read`; CopyFromDevice3D (synchronous) writes it through `write`;
  // CopyFromDevice3DAsync delivers it over the host channel to `pending` in
  // stream order.
  virtual Status CopyToDevice3D(const Copy3D& copy, uint64_t stream, const ChunkReader& read) = 0;
  virtual Status CopyFromDevice3D(const Copy3D& copy, uint64_t stream, const ChunkWriter& write) = 0;
  virtual Status CopyFromDevice3DAsync(const Copy3D& copy, uint64_t stream, uint64_t pending) = 0;
  virtual Status CopyOnDevice3D(const Copy3D& copy, uint64_t stream) = 0;
  virtual Status Memset3D(const Set3D& set, uint64_t stream) = 0;
  virtual Status AllocatePitch(uint64_t width, uint64_t height, uint64_t* ptr, uint64_t* pitch) = 0;

  virtual Status StreamCreate(uint32_t flags, int32_t priority, uint64_t* stream) = 0;
  virtual Status StreamDestroy(uint64_t stream) = 0;
  virtual Status StreamSynchronize(uint64_t stream) = 0;
  virtual Status StreamQuery(uint64_t stream) = 0;  // kCudaErrorNotReady while busy
  virtual Status StreamWaitEvent(uint64_t stream, uint64_t event, uint32_t flags) = 0;
  // Stream attributes (cuStreamSetAttribute and friends): the access policy
  // window (L2 persistence), the synchronization policy (attr 3) and the
  // priority (attr 8); the attributes of a stream, all at once.
  virtual Status StreamSetAccessPolicyWindow(uint64_t stream, uint64_t base, uint64_t bytes, float hit_ratio,
                                             uint32_t hit_prop, uint32_t miss_prop) = 0;
  virtual Status StreamSetAttributeValue(uint64_t stream, uint32_t attr, int32_t value) = 0;
  virtual Status StreamGetAttributes(uint64_t stream, uint64_t* window_base, uint64_t* window_bytes,
                                     float* hit_ratio, uint32_t* hit_prop, uint32_t* miss_prop,
                                     uint32_t* sync_policy, int32_t* priority) = 0;
  virtual Status StreamCopyAttributes(uint64_t dst, uint64_t src) = 0;
  virtual Status EventCreate(uint32_t flags, uint64_t* event) = 0;
  virtual Status EventDestroy(uint64_t event) = 0;
  virtual Status EventRecord(uint64_t event, uint64_t stream, uint32_t flags) = 0;
  virtual Status EventSynchronize(uint64_t event) = 0;
  virtual Status EventQuery(uint64_t event) = 0;  // kCudaErrorNotReady while pending
  virtual Status EventElapsedTime(uint64_t start, uint64_t end, float* milliseconds) = 0;
  virtual Status LaunchHostFunction(uint64_t stream, uint64_t id) = 0;

  // Graphs. GraphLaunch reads the packed host data of the graph's
  // host-to-device memcpy nodes, in node order, through `read`.
  virtual Status GraphInstantiate(const std::vector<GraphNodeSpec>& nodes, uint64_t* exec) = 0;
  virtual Status GraphLaunch(uint64_t exec, uint64_t stream, uint64_t input_bytes, const ChunkReader& read) = 0;
  virtual Status GraphExecDestroy(uint64_t exec) = 0;
  virtual Status GraphExecKernelNodeSetParams(uint64_t exec, uint32_t node, const GraphNodeSpec& kernel) = 0;
  virtual Status GraphExecUpdate(uint64_t exec, const std::vector<GraphNodeSpec>& nodes) = 0;

  // Waiting for the GPU without holding up the session: Query answers at
  // once (OK when the target's work is done, kCudaErrorNotReady while it runs, another
  // error for a bad handle or a fault); PrepareWait returns a blocking wait
  // that touches none of the executor's state, to run on another thread.
  enum class WaitTarget { kDevice, kStream, kEvent };
  virtual Status Query(WaitTarget target, uint64_t handle) = 0;
  virtual Status PrepareWait(WaitTarget target, uint64_t handle, std::function<Status()>* wait) = 0;
  // After Query found the target's work done: whatever else the program's
  // synchronizing call must do (usually nothing, so that the query was the
  // one driver call the program's call costs natively; after a launch, the
  // driver's synchronizing call, where it writes the device's printf
  // output).
  virtual Status SettleWait(WaitTarget target, uint64_t handle) = 0;

  // The generic wire::Call operations (protocol/call_ops.h; the session
  // worker calls them through the typed wrappers of server/executor_calls.h).
  virtual Status Call(uint32_t op, std::span<const int64_t> args, std::vector<int64_t>* values) = 0;

  // Copies between a CUDA array (a handle of ArrayCreate) and the host or
  // device memory: `height` rows of `width` bytes at byte x, row y of the
  // array, checked against its shape. From the host the rows come packed
  // through `read`; to the host they go packed through `write`, once the
  // stream's earlier work is done. Device rows are `pitch` bytes apart.
  virtual Status ArrayCopyFromHost(uint64_t array, uint64_t x, uint64_t y, uint64_t width, uint64_t height,
                                   uint64_t stream, const ChunkReader& read) = 0;
  virtual Status ArrayCopyToHost(uint64_t array, uint64_t x, uint64_t y, uint64_t width, uint64_t height,
                                 uint64_t stream, const ChunkWriter& write) = 0;
  virtual Status ArrayCopyDevice(uint64_t array, uint64_t x, uint64_t y, uint64_t device, uint64_t pitch,
                                 uint64_t width, uint64_t height, bool to_array, uint64_t stream) = 0;

  // The profiler's start and stop (cudaProfilerStart/Stop).
  virtual Status ProfilerStart() = 0;
  virtual Status ProfilerStop() = 0;

  // Library forwarding (server/library_call.h): the driver's stream behind
  // a stream handle (the legacy stream's for 0), and back.
  virtual Status NativeStream(uint64_t stream, void** native) = 0;
  virtual Status StreamHandleOf(void* native, uint64_t* stream) = 0;

  // Host memory the client shares with the worker (a segment of pinned
  // memory mapped from the client's memfd, server/host_segment_table.h):
  // registered with the driver so that copies from and to it go by DMA,
  // without staging. UnregisterHostMemory waits for the work that may still
  // use it.
  virtual Status RegisterHostMemory(void* host, uint64_t size) {
    (void)host, (void)size;
    return Status::NotSupported("registering host memory");
  }
  virtual Status UnregisterHostMemory(void* host) {
    (void)host;
    return Status::NotSupported("registering host memory");
  }
  // A copy between registered host memory and the device, in `stream`'s
  // order; with `wait`, returns once it is done (the synchronous
  // cudaMemcpy), else at once.
  virtual Status CopyRegistered(uint64_t device, void* host, uint64_t size, bool to_device, uint64_t stream,
                                bool wait) {
    (void)device, (void)host, (void)size, (void)to_device, (void)stream, (void)wait;
    return Status::NotSupported("copies of registered host memory");
  }
  // The device's address of registered host memory (mapped pinned memory).
  virtual Status RegisteredDevicePointer(void* host, uint64_t* device) {
    (void)host, (void)device;
    return Status::NotSupported("mapped host memory");
  }

 protected:
  HostChannel* host_channel_ = nullptr;
};

struct ExecutorOptions {
  std::string backend = "cuda";  // "cuda" | "test"
  // The CUDA driver the executor opens: the node's, or the test backend's
  // fake (ConfigureTestBackend, test_backend.h, sets it).
  std::string driver_library = "libcuda.so.1";
  // The test backend (TEST EQUIPMENT): the fake libcuda.so.1 (empty: the one
  // of the build tree, next to the binary), its host kernel plugins and the
  // "GPU" memory of each session.
  std::string test_driver;
  std::vector<std::string> test_kernel_plugins;
  uint64_t test_memory_bytes = 16ull << 30;
  // Host memory (pinned with the CUDA backend) one session may hold beyond
  // the executor's fixed staging: buffers of device-to-host copies that wait
  // or are delivered asynchronously, and graphs' staging (host_budget.h).
  uint64_t host_staging_bytes = 256ull << 20;
};

Status CreateExecutor(const ExecutorOptions& options, std::unique_ptr<Executor>* executor);

// How many GPUs the backend offers on this node (the test backend: 1,
// without loading its driver). The
// CUDA backend initializes the driver: the daemon asks a child process
// (rcuda-server --count-gpus), never itself, since it forks workers.
Status CountDevices(const ExecutorOptions& options, int* count);

}  // namespace rcuda
