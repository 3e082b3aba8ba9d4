// Session: one virtual device, that is one connection to one GPU of one
// rcuda-server. It is the client's RPC stub: each method turns one operation
// into protocol messages, so that the CUDA API code above never sees the wire.
//
// Thread-safe: a mutex serializes the session's messages (replies arrive in
// request order). Requests whose result the program does not wait for are
// sent without waiting; their errors come back with the next reply.
#pragma once

#include <cuda_runtime_api.h>

#include <atomic>
#include <condition_variable>
#include <unordered_map>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "client/host_channel.h"
#include "client/registry.h"
#include "protocol/call_ops.h"
#include "common/allocation_table.h"
#include "common/endpoint.h"
#include "common/fatbin.h"
#include "common/status.h"
#include "protocol/frame.h"
#include "protocol/transport.h"

namespace rcuda::client {

struct DeviceInfo {
  std::string name;
  std::vector<uint8_t> props;       // struct cudaDeviceProp
  std::vector<int32_t> attributes;  // by cudaDeviceAttr
  int32_t driver_version = 0;
  std::string backend;
  bool test_device = false;
  uint32_t arch = 0;
  uint64_t memory_limit = 0;

  int attribute(int attr) const { return attr >= 0 && attr < static_cast<int>(attributes.size()) ? attributes[attr] : 0; }
};

// A kernel as loaded on this session's GPU.
struct RemoteFunction {
  bool found = false;
  uint64_t handle = 0;
  std::vector<KernelParamInfo> params;
  int max_threads_per_block = 0;
  int shared_size_bytes = 0;
  int const_size_bytes = 0;
  int local_size_bytes = 0;
  int num_regs = 0;
  int ptx_version = 0;
  int binary_version = 0;
  int max_dynamic_shared_size_bytes = 0;
};

struct RemoteVariable {
  bool found = false;
  uint64_t address = 0;
  uint64_t size = 0;
};

// Device memory as a strided copy sees it.
struct DeviceRegion {
  uint64_t ptr = 0, pitch = 0, slice_height = 0;
};

struct Extent {
  uint64_t width = 0, height = 1, depth = 1;  // width in bytes
  uint64_t bytes() const { return width * height * depth; }
};

struct LaunchExtras {
  bool cooperative = false;
  dim3 cluster{0, 0, 0};
  bool has_priority = false;
  int priority = 0;
};

// A graph node as sent to the server (client/graph.cc builds these).
struct RemoteGraphNode {
  enum class Type : uint8_t { kEmpty, kKernel, kMemcpy, kMemset, kHost, kEventRecord, kEventWait };
  enum class Direction : uint8_t { kHostToDevice, kDeviceToHost, kDeviceToDevice };
  Type type = Type::kEmpty;
  std::vector<uint32_t> dependencies;
  uint64_t function = 0;
  dim3 grid, block;
  uint32_t shared_bytes = 0;
  std::vector<uint8_t> params;
  Direction direction = Direction::kDeviceToDevice;
  DeviceRegion dst, src;  // device sides (host sides are staging on the server)
  Extent extent;
  uint64_t pending = 0;   // device-to-host: the host channel entry
  DeviceRegion set_dst;
  uint32_t set_value = 0;
  uint8_t set_element_size = 1;
  uint64_t host_id = 0;
  uint64_t event = 0;
};

class Session {
 public:
  Session(int device, Endpoint endpoint);
  ~Session();

  int device() const { return device_; }
  // Counts cudaDeviceReset calls: objects made in an earlier generation
  // (the per-thread default streams) belong to a session that is gone.
  uint64_t generation() const { return generation_.load(); }
  const Endpoint& endpoint() const { return endpoint_; }

  // Connects and shakes hands on first use; afterwards returns the
  // session's standing (sticky) error, if any.
  Status Connect();
  // Valid once Connect() succeeded.
  const DeviceInfo& device_info() const { return info_; }

  Status Malloc(uint64_t size, uint64_t* ptr);
  Status Free(uint64_t ptr);
  Status MemGetInfo(uint64_t* free, uint64_t* total);
  Status CopyToDevice(uint64_t dst, const void* src, uint64_t size, uint64_t stream);
  Status CopyFromDevice(void* dst, uint64_t src, uint64_t size, uint64_t stream);
  Status CopyOnDevice(uint64_t dst, uint64_t src, uint64_t size, uint64_t stream);
  Status Memset(uint64_t dst, int value, uint64_t size, uint64_t stream);
  Status Launch(const Function& function, dim3 grid, dim3 block, void** args, size_t shared_bytes,
                uint64_t stream);
  Status Synchronize();
  // Ends the session (the server frees everything it held) and forgets its
  // state; the next call opens a fresh one, as cudaDeviceReset does.
  Status Reset();

  // The kernel's description on this GPU (loads its module if needed).
  Status GetFunction(const Function& function, RemoteFunction* out);
  // Records a raised dynamic shared memory limit (cudaFuncSetAttribute).
  void NoteMaxDynamicShared(const Function& function, int bytes);
  Status GetVariable(const Variable& variable, RemoteVariable* out);

  // The client's copy of the session's device memory map.
  bool OwnsRange(uint64_t ptr, uint64_t size);
  // The allocation containing ptr, if any.
  bool FindAllocation(uint64_t ptr, uint64_t* base, uint64_t* size);

  // ---- Streams, events, host work ---------------------------------------
  // The host channel, opened (and attached) on first use.
  Status EnsureHostChannel();
  HostChannelClient& host_channel() { return *host_channel_; }
  // Waits for the host functions launched into streams to have run.
  Status WaitForHostFunctions();
  int stream_priority_least() const { return priority_least_; }
  int stream_priority_greatest() const { return priority_greatest_; }

  Status StreamCreate(unsigned flags, int priority, uint64_t* stream);
  Status StreamDestroy(uint64_t stream);
  Status StreamSynchronize(uint64_t stream);
  Status StreamQuery(uint64_t stream);  // cudaErrorNotReady while busy
  Status StreamWaitEvent(uint64_t stream, uint64_t event, unsigned flags);
  Status EventCreate(unsigned flags, uint64_t* event);
  Status EventDestroy(uint64_t event);
  Status EventRecord(uint64_t event, uint64_t stream, unsigned flags);
  Status EventSynchronize(uint64_t event);
  Status EventQuery(uint64_t event);
  Status EventElapsedTime(uint64_t start, uint64_t end, float* milliseconds);
  // Runs `fn` on the client when `stream` reaches this point.
  Status HostFunction(uint64_t stream, std::function<void()> fn);

  // Strided copies and memsets (1D is width = bytes).
  Status CopyToDevice3D(const DeviceRegion& dst, const HostRegion& src, uint64_t stream);
  // async: the data lands when the stream reaches the copy (host channel);
  // otherwise this returns once it has landed.
  Status CopyFromDevice3D(const HostRegion& dst, const DeviceRegion& src, uint64_t stream, bool async);
  Status CopyOnDevice3D(const DeviceRegion& dst, const DeviceRegion& src, const Extent& extent, uint64_t stream);
  Status Memset3D(const DeviceRegion& dst, int value, const Extent& extent, uint64_t stream);
  Status MallocPitch(uint64_t width, uint64_t height, uint64_t* ptr, uint64_t* pitch);

  Status LaunchWith(const Function& function, dim3 grid, dim3 block, void** args, size_t shared_bytes,
                    uint64_t stream, const LaunchExtras& extras);
  // Packs a kernel's arguments for this GPU (graph kernel nodes).
  Status PackArguments(const Function& function, void** args, uint64_t* handle, std::vector<uint8_t>* params);

  // The generic calls (protocol/call_ops.h); `values` nullptr: async.
  Status Call(CallOp op, std::initializer_list<int64_t> args, std::vector<int64_t>* values);

  Status GraphInstantiate(const std::vector<RemoteGraphNode>& nodes, uint64_t* exec);
  Status GraphLaunch(uint64_t exec, uint64_t stream, std::span<const ConstBuffer> inputs);
  Status GraphExecDestroy(uint64_t exec);
  Status GraphExecKernelNodeSetParams(uint64_t exec, uint32_t node, const RemoteGraphNode& kernel);
  Status GraphExecUpdate(uint64_t exec, const std::vector<RemoteGraphNode>& nodes);

  // ---- fork() (client/runtime.cc registers the handlers) -----------------
  // The forking thread holds the session's locks across fork(), so that the
  // child's copies are not held by threads it does not have.
  void LockForFork();
  void UnlockAfterFork();
  // In the child, with the locks held: forgets the parent's connections
  // without touching them (they carry the parent's session, which must go
  // on), so that the child's next call opens a session of its own; then
  // unlocks. The parent's allocations, modules and streams are not the
  // child's.
  void ResetInForkedChild();

 private:
  struct RemoteModule {
    Status status;  // the outcome of loading it
    std::vector<RemoteFunction> functions;
    std::vector<RemoteVariable> variables;
  };

  Status ConnectLocked();
  Status ModuleLocked(const Module& module, RemoteModule** out);
  Status FunctionLocked(const Function& function, RemoteFunction** out);
  // A kernel as the server described it, its parameter layout checked
  // (client/param_layout.h); a layout that cannot be the kernel's breaks
  // the session.
  Status DescribeFunctionLocked(const Function& function, const wire::FunctionInfo& info, RemoteFunction* out);

  // Sends builder_'s pending request `body` of type `type` as the next
  // message, followed by `bulk`.
  Status SendLocked(wire::Request type, flatbuffers::Offset<void> body, std::span<const ConstBuffer> bulk = {},
                    uint64_t* id = nullptr);
  // Waits for the reply to message `id` (mu_ is released while waiting). A
  // bulk in the reply is read into `bulk_dst`, which must hold exactly
  // `bulk_bytes`. Returns the request's error, else an error of earlier
  // asynchronous requests.
  Status ReceiveLocked(uint64_t id, const wire::Reply** reply, void* bulk_dst = nullptr, uint64_t bulk_bytes = 0);
  // The same, with the reply's bulk (if any) read by `read_bulk`.
  Status ReceiveWithLocked(uint64_t id, const wire::Reply** reply, const std::function<Status(uint64_t)>& read_bulk);
  // Sleeps (mu_ released) until `done` holds; re-checked at every reply.
  void WaitLocked(const std::function<bool()>& done);
  // Send + receive for requests without bulk either way.
  Status CallLocked(wire::Request type, flatbuffers::Offset<void> body, const wire::Reply** reply = nullptr);
  // Reading a reply's body, checked. When the request succeeded (the
  // reply's error is 0), its reply must carry the body the request calls
  // for: one without it (a union type with no table, which the flatbuffers
  // verifier lets through, or a table of another type) comes from a broken
  // or hostile server, and breaks the session with an error naming the
  // server. *body is then never null; when the request failed it is null
  // and the status says why. Every read of a reply body goes through these,
  // never through reply->body_as_*().
  template <class T>
  Status CallForLocked(wire::Request type, flatbuffers::Offset<void> request, const T** body);
  template <class T>
  Status ReceiveForLocked(uint64_t id, const T** body);
  // The reply's body of `type`, or the session broken.
  Status CheckBodyLocked(const wire::Reply* reply, wire::ReplyBody type, const void** body);
  // "rcuda server host:port (GPU n)", for messages.
  std::string ServerName() const;
  // ReceiveLocked for a reply whose bulk goes to a strided host region.
  Status ReceiveIntoLocked(uint64_t id, const HostRegion& dst);
  flatbuffers::Offset<wire::GraphNode> BuildNodeLocked(const RemoteGraphNode& node);
  flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<wire::GraphNode>>> BuildNodesLocked(
      const std::vector<RemoteGraphNode>& nodes);
  // Marks the session broken (transport failure): every later call fails.
  Status BreakLocked(const Status& cause);
  Status NoteError(const Status& status);

  const int device_;
  const Endpoint endpoint_;
  std::mutex mu_;
  std::unique_ptr<Connection> connection_;
  bool connected_ = false;
  Status sticky_;
  DeviceInfo info_;
  uint64_t next_id_ = 0;
  flatbuffers::FlatBufferBuilder builder_{1024};
  // Threads waiting for replies, by message id (see ReceiveWithLocked).
  struct PendingReply {
    const std::function<Status(uint64_t)>* read_bulk = nullptr;
    std::vector<uint8_t> frame;
    Status transport;
    bool done = false;
  };
  std::unordered_map<uint64_t, PendingReply*> pending_;
  bool reading_ = false;
  bool connecting_ = false;
  std::condition_variable reply_cv_;
  std::vector<uint8_t> params_;
  AllocationTable allocations_;
  std::vector<std::unique_ptr<RemoteModule>> modules_;  // by Module::index
  std::vector<bool> loading_;                           // by Module::index
  std::string session_key_;
  std::atomic<uint64_t> generation_{0};
  int priority_least_ = 0, priority_greatest_ = 0;
  std::mutex channel_mu_;
  std::unique_ptr<HostChannelClient> host_channel_ = std::make_unique<HostChannelClient>();
};

template <class T>
Status Session::CallForLocked(wire::Request type, flatbuffers::Offset<void> request, const T** body) {
  uint64_t id = 0;
  *body = nullptr;
  RCUDA_RETURN_IF_ERROR(SendLocked(type, request, {}, &id));
  return ReceiveForLocked(id, body);
}

template <class T>
Status Session::ReceiveForLocked(uint64_t id, const T** body) {
  *body = nullptr;
  const wire::Reply* reply = nullptr;
  Status s = ReceiveLocked(id, &reply);
  if (!reply || reply->error() != 0) return s;
  const void* b = nullptr;
  RCUDA_RETURN_IF_ERROR(CheckBodyLocked(reply, wire::ReplyBodyTraits<T>::enum_value, &b));
  *body = static_cast<const T*>(b);
  return s;  // OK, or an error of earlier asynchronous work
}

}  // namespace rcuda::client
