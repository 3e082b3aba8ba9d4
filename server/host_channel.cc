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

Status ClientHostChannel::RunHostFunction(uint64_t id) { return Exchange(1, id, nullptr, 0); }

Status ClientHostChannel::DeliverToHost(uint64_t id, const void* data, size_t size) {
  return Exchange(2, id, data, size);
}

Status ClientHostChannel::Exchange(uint8_t kind, uint64_t id, const void* data, size_t size) {
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
  ConstBuffer bulk{data, size};
  RCUDA_RETURN_IF_ERROR(WriteFrame(*connection, std::span(builder.GetBufferPointer(), builder.GetSize()),
                                   std::span(&bulk, size ? 1 : 0)));
  FrameHeader header;
  RCUDA_RETURN_IF_ERROR(ReadFrame(*connection, &header, &frame_));
  flatbuffers::Verifier verifier(frame_.data(), frame_.size());
  if (!verifier.VerifyBuffer<wire::HostAck>(nullptr) || header.bulk_bytes) {
    return Status::Corruption("malformed host channel acknowledgement");
  }
  const auto* ack = flatbuffers::GetRoot<wire::HostAck>(frame_.data());
  if (ack->id() != id) return Status::Corruption("host channel acknowledgement out of order");
  if (ack->error()) return Status(ack->error(), "the client reported an error on the host channel");
  return Status::Ok();
}

}  // namespace rcuda
