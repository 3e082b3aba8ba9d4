// SessionWorker: serves one client session in its own process. Reads frames,
// checks them, replays each request on the Executor and answers the ones
// that expect an answer. Any malformed input ends the session (and with it
// the process, which frees the session's GPU memory); it never reaches the
// GPU.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "protocol/frame.h"
#include "protocol/transport.h"
#include "common/allocation_table.h"
#include "server/executor.h"

namespace rcuda {

struct SessionPolicy {
  // With a key, a session needs a valid lease token (RCUDA_TOKEN) for this
  // server's port and the requested GPU, and is held to its memory grant.
  std::string auth_key;
  std::string node_name;
  uint16_t port = 0;
  int gpu = 0;  // the GPU this worker's executor opened
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

  // Sends the Reply to message `id`, with `result` as its error and any
  // pending asynchronous error. `body` is finished by the caller's builder.
  Status SendReply(uint64_t id, const Status& result,
                   wire::ReplyBody body_type = wire::ReplyBody::NONE,
                   flatbuffers::Offset<void> body = 0, std::span<const ConstBuffer> bulk = {});
  // Records the failure of a request that gets no reply, to report with the
  // next reply.
  void RecordAsyncError(const Status& status);

  std::unique_ptr<Connection> connection_;
  std::unique_ptr<Executor> executor_;
  Status open_status_;
  SessionPolicy policy_;
  AllocationTable allocations_;
  uint64_t memory_limit_ = 0;  // 0 = no limit beyond the GPU's
  uint64_t next_id_ = 0;
  Status async_error_;
  flatbuffers::FlatBufferBuilder builder_{1024};
  std::vector<uint8_t> frame_;
};

}  // namespace rcuda
