// Striped TCP on the worker's side (protocol/tcp_stripes.h): the session's
// data streams arrive like its host channel (from the daemon, on the
// control socket, AttachLoop's thread); the session thread reads a striped
// frame's bulk from them.
#include <spdlog/spdlog.h>

#include <cstring>

#include "server/session_worker.h"

namespace rcuda {
namespace {

// Compares without stopping at the first difference (no timing hint).
bool SameKey(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

void SessionWorker::AttachStripe(const wire::Hello& h, uint64_t id, const std::string& kind,
                                 std::unique_ptr<Connection> connection) {
  const uint32_t index = h.stripe();
  std::string why;
  {
    MutexLock lock(&stripes_mu_);
    if (!h.attach_key() || policy_.session_key.empty() || !SameKey(h.attach_key()->str(), policy_.session_key)) {
      why = "bad data stream key";
    } else if (kind != "tcp" || connection_->Kind() != "tcp") {
      why = "data streams are for plain TCP sessions only";
    } else if (index > static_cast<uint32_t>(policy_.tcp_streams)) {
      why = "data stream " + std::to_string(index) + " beyond this server's " + std::to_string(policy_.tcp_streams);
    } else if (stripes_frozen_) {
      why = "data stream after the session's first striped transfer";
    } else if (attached_stripes_.size() >= index && attached_stripes_[index - 1]) {
      why = "data stream " + std::to_string(index) + " attached already";
    } else {
      // Taken before the answer: the client sends striped frames only once
      // every stream it opened was accepted.
      if (attached_stripes_.size() < index) attached_stripes_.resize(index);
      attached_stripes_[index - 1] = std::move(connection);
    }
  }
  if (!why.empty()) {
    spdlog::warn("refused a data stream from {}: {}", connection->PeerName(), why);
    (void)SendAttachReply(*connection, id, false, why);
    return;
  }
  Connection* taken = nullptr;
  {
    MutexLock lock(&stripes_mu_);
    taken = attached_stripes_[index - 1].get();
  }
  // The session thread never reads this stream before its answer went out
  // (the client waits for it), so writing it here races with nothing.
  if (!SendAttachReply(*taken, id, true, "").ok()) {
    spdlog::warn("data stream {} from {} went away during its attachment", index, taken->PeerName());
    return;  // the client's first striped transfer fails on it
  }
  spdlog::debug("data stream {} attached from {}", index, taken->PeerName());
}

Status SessionWorker::BeginFrameBulk(const FrameHeader& header, const wire::Message& message) {
  bulk_striped_ = header.magic == kStripedFrameMagic;
  if (!bulk_striped_) return Status::Ok();
  // ModuleLoad reads its image from the control connection itself; only
  // bulks consumed through ConsumeBulk/DiscardBulk may be striped.
  if (message.request_type() == wire::Request::ModuleLoad) {
    return Status::Corruption("a striped frame that cannot be striped from " + connection_->PeerName());
  }
  if (!stripes_) {
    std::vector<std::unique_ptr<Connection>> streams;
    {
      MutexLock lock(&stripes_mu_);
      stripes_frozen_ = true;
      for (auto& c : attached_stripes_) {
        if (!c) return Status::Corruption("a striped frame while a data stream is missing");
        streams.push_back(std::move(c));
      }
      attached_stripes_.clear();
    }
    if (streams.empty()) return Status::Corruption("a striped frame without data streams");
    spdlog::info("session {} uses {} TCP data streams", connection_->PeerName(), streams.size());
    stripes_ = std::make_unique<TcpStripes>(std::move(streams));
    // Replies leave from the wait pool too: they find the streams under
    // write_mu_.
    MutexLock lock(&write_mu_);
    reply_stripes_ = stripes_.get();
  }
  // Without bulk: the client announces that it uses its streams (its first
  // message after opening them), which lets large replies use them.
  if (header.bulk_bytes == 0) {
    bulk_striped_ = false;
    return Status::Ok();
  }
  return stripes_->BeginReceive(header.bulk_bytes);
}

Status SessionWorker::EndFrameBulk() {
  if (!bulk_striped_) return Status::Ok();
  bulk_striped_ = false;
  return stripes_->EndReceive();
}

Status SessionWorker::ReadBulk(void* dst, size_t n) {
  if (bulk_striped_) return stripes_->Receive(dst, n);
  return connection_->ReadExact(dst, n);
}

Status SessionWorker::DiscardBulk(Connection& connection, uint64_t bytes) {
  if (bulk_striped_ && &connection == connection_.get()) return stripes_->Discard(bytes);
  return rcuda::DiscardBulk(connection, bytes);
}

Status SessionWorker::WriteReplyFrame(std::span<const uint8_t> message, std::span<const ConstBuffer> bulk) {
  uint64_t bulk_bytes = 0;
  for (const ConstBuffer& b : bulk) bulk_bytes += b.size;
  if (!reply_stripes_ || bulk_bytes < kStripeMinBulkBytes) return WriteFrame(*connection_, message, bulk);
  RCUDA_RETURN_IF_ERROR(WriteStripedFrameStart(*connection_, message, bulk_bytes));
  return reply_stripes_->SendAll(bulk);
}

Status SessionWorker::StartReplyBulk(std::span<const uint8_t> message, uint64_t bulk_bytes, ConstBuffer first) {
  replying_striped_ = reply_stripes_ && bulk_bytes >= kStripeMinBulkBytes;
  if (!replying_striped_) return WriteFrameStart(*connection_, message, bulk_bytes, first);
  RCUDA_RETURN_IF_ERROR(WriteStripedFrameStart(*connection_, message, bulk_bytes));
  RCUDA_RETURN_IF_ERROR(reply_stripes_->BeginSend(bulk_bytes));
  return reply_stripes_->Send(first.data, first.size);
}

Status SessionWorker::ContinueReplyBulk(ConstBuffer part) {
  if (replying_striped_) return reply_stripes_->Send(part.data, part.size);
  return connection_->WriteAll(std::span(&part, 1));
}

Status SessionWorker::EndReplyBulk() {
  if (!replying_striped_) return Status::Ok();
  replying_striped_ = false;
  return reply_stripes_->EndSend();
}

}  // namespace rcuda
