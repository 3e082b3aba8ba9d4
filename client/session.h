// Session: one virtual device, that is one connection to one GPU of one
// rcuda-server, opened lazily. It is made of three parts:
//  - the RPC channel it is (client/rpc_channel.h): message ids, replies in
//    any order, errors of asynchronous requests, the sticky error;
//  - the module cache (client/module_cache.h): the program's modules as
//    this GPU has them;
//  - the proxy: one method per operation of protocol/rpc/operations.def,
//    generated (session_proxy.inc) except for the hand-shaped requests
//    declared below (launches, strided copies, graphs, host functions).
// So the CUDA API code above never sees the wire.
//
// Threads: any thread may call. mu_ (the channel's) guards the channel, the
// session's copy of its device memory map (allocations_) and the module
// cache; channel_mu_ serializes opening the host channel. The handshake
// (ConnectLocked, under mu_) writes info_, session_key_ and the priority
// range once; they are read without the lock once Connect() succeeded.
#pragma once

#include <cuda_runtime_api.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "client/host_channel.h"
#include "client/module_cache.h"
#include "client/registry.h"
#include "client/rpc_channel.h"
#include "common/allocation_table.h"
#include "common/endpoint.h"
#include "common/mutex.h"
#include "common/status.h"
#include "protocol/call_ops.h"
#include "protocol/device_description.h"
#include "protocol/graph_node_spec.h"
#include "protocol/launch_options.h"
#include "protocol/module_description.h"

namespace rcuda::client {

// Device memory as a strided copy sees it.
struct DeviceRegion {
  uint64_t ptr = 0, pitch = 0, slice_height = 0;
};

struct Extent {
  uint64_t width = 0, height = 1, depth = 1;  // width in bytes
  uint64_t bytes() const { return width * height * depth; }
};

class Session : private RpcChannel {
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
  Status Connect() EXCLUDES(mu_);
  // Valid once Connect() succeeded.
  const DeviceDescription& device_info() const { return info_; }

  // Ends the session (the server frees everything it held) and forgets its
  // state; the next call opens a fresh one, as cudaDeviceReset does.
  Status Reset() EXCLUDES(mu_);

  // The kernel's description on this GPU (loads its module if needed).
  Status GetFunction(const Function& function, FunctionDescription* out) EXCLUDES(mu_);
  // Records a raised dynamic shared memory limit (cudaFuncSetAttribute).
  void NoteMaxDynamicShared(const Function& function, int bytes) EXCLUDES(mu_);
  Status GetVariable(const Variable& variable, VariableDescription* out) EXCLUDES(mu_);

  // The client's copy of the session's device memory map.
  bool OwnsRange(uint64_t ptr, uint64_t size) EXCLUDES(mu_);
  // The allocation containing ptr, if any.
  bool FindAllocation(uint64_t ptr, uint64_t* base, uint64_t* size) EXCLUDES(mu_);

  // ---- Host work ----------------------------------------------------------
  // The host channel, opened (and attached) on first use.
  Status EnsureHostChannel() EXCLUDES(mu_, channel_mu_);
  HostChannelClient& host_channel() { return *host_channel_; }
  // Waits for the host functions launched into streams to have run.
  Status WaitForHostFunctions() EXCLUDES(mu_, channel_mu_);
  int stream_priority_least() const { return priority_least_; }
  int stream_priority_greatest() const { return priority_greatest_; }

  // ---- The hand-written proxy: requests of hand-shaped tables -------------
  // Runs `fn` on the client when `stream` reaches this point.
  Status HostFunction(uint64_t stream, std::function<void()> fn) EXCLUDES(mu_);
  // Strided copies and memsets (1D is width = bytes).
  Status CopyToDevice3D(const DeviceRegion& dst, const HostRegion& src, uint64_t stream) EXCLUDES(mu_);
  // async: the data lands when the stream reaches the copy (host channel);
  // otherwise this returns once it has landed.
  Status CopyFromDevice3D(const HostRegion& dst, const DeviceRegion& src, uint64_t stream, bool async)
      EXCLUDES(mu_);
  Status CopyOnDevice3D(const DeviceRegion& dst, const DeviceRegion& src, const Extent& extent, uint64_t stream)
      EXCLUDES(mu_);
  Status Memset3D(const DeviceRegion& dst, int value, const Extent& extent, uint64_t stream) EXCLUDES(mu_);
  Status Launch(const Function& function, dim3 grid, dim3 block, void** args, size_t shared_bytes, uint64_t stream,
                const LaunchOptions& options) EXCLUDES(mu_);
  // Packs a kernel's arguments for this GPU (graph kernel nodes).
  Status PackArguments(const Function& function, void** args, uint64_t* handle, std::vector<uint8_t>* params)
      EXCLUDES(mu_);
  Status GraphInstantiate(const std::vector<GraphNodeSpec>& nodes, uint64_t* exec) EXCLUDES(mu_);
  Status GraphExecKernelNodeSetParams(uint64_t exec, uint32_t node, const GraphNodeSpec& kernel) EXCLUDES(mu_);
  Status GraphExecUpdate(uint64_t exec, const std::vector<GraphNodeSpec>& nodes) EXCLUDES(mu_);

  // ---- Pinned host memory shared with the worker (session_host_segments.cc)
  // Whether the session runs over shared memory, where the program's pinned
  // memory can be a host segment (protocol/host_segment.h). Connects first.
  bool SharesHostMemory() EXCLUDES(mu_);
  // Hands the segment's memfd to the worker, which maps and registers it;
  // *segment names it in copies (HostSegmentUnmap frees it).
  Status HostSegmentMap(int fd, uint64_t size, int64_t* segment) EXCLUDES(mu_);

  // ---- Forwarded math libraries (session_library.cc) ----------------------
  // One LibraryCall: *status is the library's, *values and *bytes its out
  // values and result bytes (client/private_library_abi.h).
  Status LibraryCall(uint32_t library, uint32_t function, std::span<const int64_t> values,
                     std::span<const uint8_t> bytes, int32_t* status, std::vector<int64_t>* out_values,
                     std::vector<uint8_t>* out_bytes) EXCLUDES(mu_);

  // ---- The generated proxy -------------------------------------------------
#include "client/session_proxy.inc"

  // ---- fork() (client/runtime.cc registers the handlers) -----------------
  // The forking thread holds the session's locks across fork(), so that the
  // child's copies are not held by threads it does not have.
  void LockForFork() ACQUIRE(channel_mu_, mu_);
  void UnlockAfterFork() RELEASE(mu_, channel_mu_);
  // In the child, with the locks held: forgets the parent's connections
  // without touching them (they carry the parent's session, which must go
  // on), so that the child's next call opens a session of its own; then
  // unlocks. The parent's allocations, modules and streams are not the
  // child's.
  void ResetInForkedChild() RELEASE(mu_, channel_mu_);

 private:
  Status ConnectLocked() REQUIRES(mu_);
  std::string ServerName() const override;
  // The session cannot go on: whoever waits for its host functions waits
  // no more.
  void OnBrokenLocked(const Status& sticky) override REQUIRES(mu_);
  Status FunctionLocked(const Function& function, FunctionDescription** out) REQUIRES(mu_);
  // Sends the graph `nodes` as a GraphInstantiate or a GraphExecUpdate.
  flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<wire::GraphNode>>> BuildNodesLocked(
      const std::vector<GraphNodeSpec>& nodes) REQUIRES(mu_);

  const Endpoint endpoint_;
  DeviceDescription info_;
  AllocationTable allocations_ GUARDED_BY(mu_);
  ModuleCache modules_ GUARDED_BY(mu_);
  std::vector<uint8_t> params_ GUARDED_BY(mu_);  // the last launch's packed parameters
  std::string session_key_;
  std::atomic<uint64_t> generation_{0};
  uint64_t next_segment_token_ GUARDED_BY(mu_) = 0;
  int priority_least_ = 0, priority_greatest_ = 0;
  Mutex channel_mu_;
  // Replaced by Reset (under mu_) and read by the threads that use it; its
  // own methods are thread-safe.
  std::unique_ptr<HostChannelClient> host_channel_ = std::make_unique<HostChannelClient>();
};

}  // namespace rcuda::client
