// The server end of a session's host channel (see rcuda.fbs): how work that
// must happen on the client in stream order (host functions, the data of
// asynchronous device-to-host copies) reaches it. Calls are serialized: each
// sends one ChannelMessage and waits for its HostAck, which is what holds the
// stream until the client is done.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>

#include "protocol/transport.h"
#include "server/executor.h"

namespace rcuda {

class ClientHostChannel final : public HostChannel {
 public:
  // Called once the client's channel connection has arrived.
  void Attach(std::unique_ptr<Connection> connection);
  bool attached();
  // Fails pending and later calls (the session is ending).
  void Close();

  Status RunHostFunction(uint64_t id) override;
  Status DeliverToHost(uint64_t id, const void* data, size_t size) override;
  Status DeliverToHostFrom(uint64_t id, uint64_t size,
                           const std::function<Status(const ChunkWriter&)>& produce) override;

 private:
  // Sends one ChannelMessage whose bulk (`size` bytes) `produce` writes, and
  // waits for its acknowledgement.
  Status Exchange(uint8_t kind, uint64_t id, uint64_t size, const std::function<Status(const ChunkWriter&)>& produce);

  std::mutex mu_;  // one exchange at a time
  std::mutex state_mu_;
  std::condition_variable attached_cv_;
  std::unique_ptr<Connection> connection_;
  bool closed_ = false;
  std::vector<uint8_t> frame_;
};

}  // namespace rcuda
