// SessionWorker: serves one client session in its own process. Reads frames,
// checks them, replays each request on the Executor and answers the ones
// that expect an answer. Any malformed input ends the session (and with it
// the process, which frees the session's GPU memory); it never reaches the
// GPU.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <string>
#include <vector>

#include "common/status.h"
#include "protocol/frame.h"
#include "protocol/transport.h"
#include "common/allocation_table.h"
#include "server/executor.h"
#include "server/host_channel.h"
#include "server/wait_pool.h"

namespace rcuda {

struct SessionPolicy {
  // With a key, a session needs a valid lease token (RCUDA_TOKEN) for this
  // server's port and the requested GPU, and is held to its memory grant.
  std::string auth_key;
  std::string node_name;
  uint16_t port = 0;
  int gpu = 0;  // the GPU this worker's executor opened
  // The daemon's control socket: the session's host channel arrives on it.
  int control_fd = -1;
  // The key the client presents to attach its host channel.
  std::string session_key;
};

class SessionWorker {
 public:
  // `executor` was opened ahead of the session (a warm worker); `open_status`
  // says whether that worked. A failure is reported to the client in the
  // handshake.
  SessionWorker(std::unique_ptr<Connection> connection, std::unique_ptr<Executor> executor, Status open_status,
                SessionPolicy policy);

  // Runs the session to its end. `hello` is the session's first message,
  // already read by the daemon (empty: read it from the connection).
  // Returns OK when the client left cleanly, otherwise why the session was
  // ended.
  Status Run(std::span<const uint8_t> hello);
  ~SessionWorker();

 private:
  Status Handshake(std::span<const uint8_t> hello);
  Status Serve(const wire::Message& message, uint64_t bulk_bytes);

  Status HandleMemAlloc(const wire::Message& m);
  Status HandleMemFree(const wire::Message& m);
  Status HandleMemGetInfo(const wire::Message& m);
  Status HandleMemcpyHtoD(const wire::Message& m, uint64_t bulk_bytes);
  Status HandleMemcpyDtoH(const wire::Message& m);
  Status HandleMemcpyDtoD(const wire::Message& m);
  Status HandleMemset(const wire::Message& m);
  Status HandleModuleLoad(const wire::Message& m, uint64_t bulk_bytes);
  Status HandleModuleUnload(const wire::Message& m);
  Status HandleLaunch(const wire::Message& m);
  Status HandleDeviceSynchronize(const wire::Message& m);
  Status HandleDeviceReset(const wire::Message& m);
  // session_worker_streams.cc
  Status HandleMemcpy3D(const wire::Message& m, uint64_t bulk_bytes);
  Status HandleMemset3D(const wire::Message& m);
  Status HandleMallocPitch(const wire::Message& m);
  Status HandleStreamCreate(const wire::Message& m);
  Status HandleStreamDestroy(const wire::Message& m);
  Status HandleStreamSynchronize(const wire::Message& m);
  Status HandleStreamQuery(const wire::Message& m);
  Status HandleStreamWaitEvent(const wire::Message& m);
  Status HandleEventCreate(const wire::Message& m);
  Status HandleEventDestroy(const wire::Message& m);
  Status HandleEventRecord(const wire::Message& m);
  Status HandleEventSynchronize(const wire::Message& m);
  Status HandleEventQuery(const wire::Message& m);
  Status HandleEventElapsedTime(const wire::Message& m);
  Status HandleHostFunction(const wire::Message& m);
  Status HandleGraphInstantiate(const wire::Message& m);
  Status HandleGraphLaunch(const wire::Message& m, uint64_t bulk_bytes);
  Status HandleGraphExecDestroy(const wire::Message& m);
  Status HandleGraphExecKernelNodeSetParams(const wire::Message& m);
  Status HandleGraphExecUpdate(const wire::Message& m);
  Status HandleCall(const wire::Message& m);

  // Converts a graph from the wire, checking its device memory ranges.
  Status GraphSpecs(const flatbuffers::Vector<flatbuffers::Offset<wire::GraphNode>>* nodes,
                    std::vector<GraphNodeSpec>* specs);
  Status NodeSpec(const wire::GraphNode& node, GraphNodeSpec* spec);
  // Whether a strided region lies in the session's device memory.
  bool OwnsStrided(uint64_t base, uint64_t pitch, uint64_t slice_height, uint64_t width, uint64_t height,
                   uint64_t depth) const;
  // Receives the session's host channel from the daemon.
  void AttachLoop();
  // Hands `use` a reader of the request's bulk data (for the executor to
  // pull in chunks); a GPU-side failure becomes an asynchronous error and
  // the unread bulk is dropped, a transport failure ends the session.
  Status ConsumeBulk(uint64_t bulk_bytes, const std::function<Status(const ChunkReader&)>& use);
  // Sends a reply whose bulk is produced piecewise (synchronous
  // device-to-host copies); pads with zeros if production fails midway.
  Status StreamReply(uint64_t id, uint64_t bytes,
                     const std::function<Status(const ChunkWriter&)>& produce);

  // Sends the Reply to message `id`, with `result` as its error and any
  // pending asynchronous error. `body` is finished by the caller's builder.
  Status SendReply(uint64_t id, const Status& result,
                   wire::ReplyBody body_type = wire::ReplyBody::NONE,
                   flatbuffers::Offset<void> body = 0, std::span<const ConstBuffer> bulk = {});
  // Builds (in `builder`) and writes a reply; safe from any thread.
  Status FinishReply(flatbuffers::FlatBufferBuilder* builder, uint64_t id, const Status& result,
                     wire::ReplyBody body_type, flatbuffers::Offset<void> body, std::span<const ConstBuffer> bulk);
  // Records the failure of a request that gets no reply, to report with the
  // next reply.
  // Queries `target` for up to 50 us: OK once its work is done, 600 while
  // it still runs, another error for a bad handle or a fault.
  Status LookBriefly(Executor::WaitTarget target, uint64_t handle);
  void RecordAsyncError(const Status& status);
  Status TakeAsyncError();
  // Answers a synchronizing request when the GPU work it waits for is done,
  // without holding up the session's other requests meanwhile.
  Status WaitThenReply(uint64_t id, Executor::WaitTarget target, uint64_t handle);

  std::unique_ptr<Connection> connection_;
  std::unique_ptr<Executor> executor_;
  Status open_status_;
  SessionPolicy policy_;
  AllocationTable allocations_;
  uint64_t memory_limit_ = 0;  // 0 = no limit beyond the GPU's
  uint64_t next_id_ = 0;
  std::mutex async_mu_;
  Status async_error_;  // guarded by async_mu_
  std::mutex write_mu_;  // one frame at a time on connection_
  WaitPool waits_;
  ClientHostChannel host_channel_;
  std::thread attach_thread_;
  std::atomic<bool> ending_{false};
  flatbuffers::FlatBufferBuilder builder_{1024};
  std::vector<uint8_t> frame_;
};

}  // namespace rcuda
