#include "server/host_channel.h"

#include <chrono>

#include "protocol/frame.h"

namespace rcuda {
namespace {

// The client attaches its channel before it sends the first request that
// needs it; this bound only keeps a broken client from stalling a stream
// forever.
constexpr std::chrono::seconds kAttachTimeout{30};

}  // namespace

void ClientHostChannel::Attach(std::unique_ptr<Connection> connection) {
  std::lock_guard lock(state_mu_);
  connection_ = std::move(connection);
  attached_cv_.notify_all();
}

bool ClientHostChannel::attached() {
  std::lock_guard lock(state_mu_);
  return connection_ != nullptr;
}

void ClientHostChannel::Close() {
  std::lock_guard lock(state_mu_);
  closed_ = true;
  if (connection_) connection_->Shutdown();
  attached_cv_.notify_all();
}

Status ClientHostChannel::RunHostFunction(uint64_t id) { return Exchange(1, id, 0, nullptr); }

Status ClientHostChannel::DeliverToHost(uint64_t id, const void* data, size_t size) {
  return Exchange(2, id, size, [&](const ChunkWriter& write) { return write(data, size); });
}

Status ClientHostChannel::DeliverToHostFrom(uint64_t id, uint64_t size,
                                            const std::function<Status(const ChunkWriter&)>& produce) {
  return Exchange(2, id, size, produce);
}

Status ClientHostChannel::Exchange(uint8_t kind, uint64_t id, uint64_t size,
                                   const std::function<Status(const ChunkWriter&)>& produce) {
  std::lock_guard exchange(mu_);
  Connection* connection = nullptr;
  {
    std::unique_lock lock(state_mu_);
    attached_cv_.wait_for(lock, kAttachTimeout, [&] { return connection_ != nullptr || closed_; });
    if (closed_) return Status::Unavailable("the session is ending");
    if (!connection_) return Status::Unavailable("the client never attached its host channel");
    connection = connection_.get();
  }
  flatbuffers::FlatBufferBuilder builder(64);
  builder.Finish(wire::CreateChannelMessage(builder, kind, id));
  std::span<const uint8_t> message(builder.GetBufferPointer(), builder.GetSize());
  Status produced;
  if (size == 0) {
    RCUDA_RETURN_IF_ERROR(WriteFrame(*connection, message));
  } else {
    // The header announces the whole size; the pieces follow as produced.
    RCUDA_RETURN_IF_ERROR(WriteFrameStart(*connection, message, size, ConstBuffer{nullptr, 0}));
    uint64_t sent = 0;
    Status transport;
    produced = produce([&](const void* src, size_t n) {
      if (n > size - sent) return transport = Status::Corruption("delivery longer than announced");
      ConstBuffer part{src, n};
      transport = connection->WriteAll(std::span(&part, 1));
      if (transport.ok()) sent += n;
      return transport;
    });
    RCUDA_RETURN_IF_ERROR(transport);
    if (!produced.ok() || sent != size) {
      // The frame promised `size` bytes: keep the channel in step.
      std::vector<char> zeros(std::min<uint64_t>(size - sent, 1 << 20));
      while (sent < size) {
        ConstBuffer part{zeros.data(), std::min<uint64_t>(zeros.size(), size - sent)};
        RCUDA_RETURN_IF_ERROR(connection->WriteAll(std::span(&part, 1)));
        sent += part.size;
      }
      if (produced.ok()) produced = Status::Cuda(kCudaErrorUnknown, "short delivery to the client");
    }
  }
  FrameHeader header;
  RCUDA_RETURN_IF_ERROR(ReadFrame(*connection, &header, &frame_, nullptr, 4096));
  flatbuffers::Verifier verifier(frame_.data(), frame_.size());
  if (!verifier.VerifyBuffer<wire::HostAck>(nullptr) || header.bulk_bytes) {
    return Status::Corruption("malformed host channel acknowledgement");
  }
  const auto* ack = flatbuffers::GetRoot<wire::HostAck>(frame_.data());
  if (ack->id() != id) return Status::Corruption("host channel acknowledgement out of order");
  RCUDA_RETURN_IF_ERROR(produced);
  if (ack->error()) return Status::Cuda(ack->error(), "the client reported an error on the host channel");
  return Status::Ok();
}

}  // namespace rcuda
