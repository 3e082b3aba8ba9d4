#include "client/rpc_channel.h"

#include "client/device_output.h"
#include "client/errors.h"
#include "client/log.h"

namespace rcuda::client {
namespace {

// Each thread's last reply; a reply handed out stays valid until the same
// thread receives the next one.
thread_local std::vector<uint8_t> t_reply;

}  // namespace

Status RpcChannel::BreakLocked(const Status& cause) {
  if (sticky_.ok()) {
    sticky_ = Status::Cuda(cudaErrorDevicesUnavailable, "lost the connection to " + ServerName() + ": " + cause.message());
    Log(LogLevel::kError, sticky_.message());
  }
  if (connection_) connection_->Shutdown();
  OnBrokenLocked(sticky_);
  connected_ = false;
  return sticky_;
}

Status RpcChannel::CheckBodyLocked(const wire::Reply* reply, wire::ReplyBody type, const void** body) {
  *body = nullptr;
  if (reply->body_type() != type || !reply->body()) {
    return BreakLocked(Status::Corruption(std::string("a reply to request ") + std::to_string(reply->id()) +
                                          " without its " + wire::EnumNameReplyBody(type) + " (it carries " +
                                          (reply->body() ? wire::EnumNameReplyBody(reply->body_type())
                                                         : "no body") +
                                          ")"));
  }
  *body = reply->body();
  return Status::Ok();
}

Status RpcChannel::NoteError(const Status& status) {
  if (!status.ok() && IsSticky(status.ToCudaError()) && sticky_.ok()) {
    sticky_ = status;
    Log(LogLevel::kError, "device " + std::to_string(device_) + ": " + status.message());
  }
  return status;
}

void RpcChannel::ClearLocked() {
  connected_ = false;
  connecting_ = false;
  reading_ = false;
  pending_.clear();
  sticky_ = Status::Ok();
  next_id_ = 0;
  builder_.Clear();
}

Status RpcChannel::SendLocked(wire::Request type, flatbuffers::Offset<void> body, std::span<const ConstBuffer> bulk,
                              uint64_t* id) {
  if (!connection_) return sticky_.ok() ? Status::Cuda(cudaErrorDevicesUnavailable, "no connection") : sticky_;
  wire::MessageBuilder message(builder_);
  message.add_id(++next_id_);
  if (id) *id = next_id_;
  message.add_request_type(type);
  message.add_request(body);
  builder_.Finish(message.Finish());
  std::span<const uint8_t> bytes(builder_.GetBufferPointer(), builder_.GetSize());
  uint64_t bulk_bytes = 0;
  for (const ConstBuffer& b : bulk) bulk_bytes += b.size;
  Status s;
  // A large bulk goes on the data streams, its header and message here
  // (mu_ keeps one frame at a time on both). ModuleLoad's never: the
  // server reads a module's image from the control connection.
  // The first message after the data streams opened is sent striped even
  // without bulk: it tells the server the client uses them (from then on
  // it may send large replies' bulk on them too).
  const bool announce = stripes_ && !stripes_announced_ && type != wire::Request::ModuleLoad;
  if (stripes_ && (announce || bulk_bytes >= kStripeMinBulkBytes) && type != wire::Request::ModuleLoad) {
    stripes_announced_ = true;
    s = WriteStripedFrameStart(*connection_, bytes, bulk_bytes);
    if (s.ok() && bulk_bytes) s = stripes_->SendAll(bulk);
  } else {
    s = WriteFrame(*connection_, bytes, bulk);
  }
  builder_.Clear();
  if (!s.ok()) return BreakLocked(s);
  return Status::Ok();
}

Status RpcChannel::ReceiveLocked(uint64_t id, const wire::Reply** reply_out, void* bulk_dst, uint64_t bulk_bytes) {
  return ReceiveWithLocked(id, reply_out, [=, this](uint64_t bytes) -> Status {
    if (bytes != bulk_bytes || !bulk_dst) return Status::Corruption("unexpected bulk data in a reply");
    return ReadReplyBulk(bulk_dst, bulk_bytes);
  });
}

Status RpcChannel::ReceiveIntoLocked(uint64_t id, const HostRegion& r) {
  return ReceiveWithLocked(id, nullptr, [=, this](uint64_t bytes) -> Status {
    if (bytes != r.bytes()) return Status::Corruption("unexpected bulk data in a reply");
    if (r.pitch == r.width && (r.depth == 1 || r.slice_height == r.height)) {
      return ReadReplyBulk(r.base, bytes);
    }
    for (uint64_t z = 0; z < r.depth; ++z)
      for (uint64_t y = 0; y < r.height; ++y)
        RCUDA_RETURN_IF_ERROR(ReadReplyBulk(r.base + (z * r.slice_height + y) * r.pitch, r.width));
    return Status::Ok();
  });
}

Status RpcChannel::ReadReplyBulk(void* dst, size_t size) {
  if (reply_stripes_) return reply_stripes_->Receive(dst, size);
  return reply_connection_->ReadExact(dst, size);
}

void RpcChannel::WaitLocked(const std::function<bool()>& done) {
  // condition_variable_any releases mu_ while it sleeps and holds it again
  // when it returns.
  reply_cv_.wait(mu_, done);
}

// Whichever waiting thread finds no one reading becomes the reader (mu_
// released while it reads), hands each reply to the thread that waits for
// it, and returns when its own has come; the others sleep on reply_cv_.
// The analysis cannot follow mu_ released and taken again through
// unique_lock; the function holds mu_ whenever it touches guarded state.
Status RpcChannel::ReceiveWithLocked(uint64_t id, const wire::Reply** reply_out,
                                     const std::function<Status(uint64_t)>& read_bulk) NO_THREAD_SAFETY_ANALYSIS {
  PendingReply mine;
  mine.read_bulk = &read_bulk;
  pending_[id] = &mine;
  std::unique_lock<Mutex> lock(mu_, std::adopt_lock);
  while (!mine.done) {
    if (reading_ || !connection_) {
      if (!connection_) {
        mine.done = true;
        mine.transport = sticky_.ok() ? Status::Cuda(cudaErrorDevicesUnavailable, "no connection") : sticky_;
        break;
      }
      reply_cv_.wait(lock);
      continue;
    }
    reading_ = true;
    Connection* connection = connection_.get();
    TcpStripes* stripes = stripes_.get();
    lock.unlock();
    FrameHeader header;
    std::vector<uint8_t> frame;
    Status s = ReadFrame(*connection, &header, &frame, nullptr, kMaxMessageBytes, /*allow_striped=*/stripes != nullptr);
    const bool striped = s.ok() && header.magic == kStripedFrameMagic;
    const wire::Reply* reply = s.ok() ? VerifiedReply(frame) : nullptr;
    if (s.ok() && !reply) s = Status::Corruption("malformed reply");
    // The device's output comes ahead of the reply's result, in the order
    // the replies arrive (the worker's order): written by the reader.
    if (s.ok() && reply->device_output()) {
      WriteDeviceOutput(reply->device_output()->data(), reply->device_output()->size());
    }
    PendingReply* target = nullptr;
    if (s.ok()) {
      lock.lock();
      auto it = pending_.find(reply->id());
      target = it == pending_.end() ? nullptr : it->second;
      lock.unlock();
      if (!target) {
        s = Status::Corruption("reply " + std::to_string(reply->id()) + " to no pending request");
      } else if (header.bulk_bytes) {
        // The reader's own: only the thread that reads frames uses them.
        reply_connection_ = connection;
        reply_stripes_ = striped ? stripes : nullptr;
        if (striped) s = stripes->BeginReceive(header.bulk_bytes);
        if (s.ok()) {
          s = *target->read_bulk ? (*target->read_bulk)(header.bulk_bytes)
                                 : Status::Corruption("unexpected bulk data in a reply");
        }
        if (striped && s.ok()) s = stripes->EndReceive();
      } else if (striped) {
        s = Status::Corruption("a striped reply without bulk data");
      }
    }
    lock.lock();
    reading_ = false;
    if (!s.ok()) {
      // The session is broken: every waiting thread learns it.
      Status broken = BreakLocked(s);
      for (auto& [pid, p] : pending_) {
        p->done = true;
        p->transport = broken;
      }
    } else {
      target->frame = std::move(frame);
      target->done = true;
    }
    reply_cv_.notify_all();
  }
  pending_.erase(id);
  lock.release();  // back to the caller's lock
  if (!mine.transport.ok()) return mine.transport;
  t_reply = std::move(mine.frame);
  const wire::Reply* reply = flatbuffers::GetRoot<wire::Reply>(t_reply.data());
  if (reply_out) *reply_out = reply;
  Status async_error;
  if (reply->async_error() != 0) {
    async_error = Status::Cuda(reply->async_error(), reply->async_message() ? reply->async_message()->str() : "");
    Log(LogLevel::kDebug, "asynchronous error from device " + std::to_string(device_) + ": " + async_error.message());
  }
  if (reply->error() != 0) {
    NoteError(async_error);
    return NoteError(Status::Cuda(reply->error(), reply->message() ? reply->message()->str() : ""));
  }
  return NoteError(async_error);
}

Status RpcChannel::CallLocked(wire::Request type, flatbuffers::Offset<void> body, const wire::Reply** reply) {
  uint64_t id = 0;
  RCUDA_RETURN_IF_ERROR(SendLocked(type, body, {}, &id));
  return ReceiveLocked(id, reply);
}

Status RpcChannel::CallGenericLocked(CallOp op, std::span<const int64_t> args, size_t results,
                                     std::vector<int64_t>* values) {
  values->clear();
  auto body = wire::CreateCall(builder_, static_cast<uint32_t>(op), builder_.CreateVector(args.data(), args.size()));
  const wire::CallReply* r = nullptr;
  Status s = CallForLocked(wire::Request::Call, body.Union(), &r);
  if (!r) return s;
  if (r->values()) values->assign(r->values()->begin(), r->values()->end());
  if (values->size() < results) {
    size_t got = values->size();
    values->clear();
    return BreakLocked(Status::Corruption("a reply to call " + std::to_string(static_cast<uint32_t>(op)) + " with " +
                                          std::to_string(got) + " values instead of " + std::to_string(results)));
  }
  return s;
}

Status RpcChannel::SendGenericLocked(CallOp op, std::span<const int64_t> args) {
  auto body = wire::CreateCall(builder_, static_cast<uint32_t>(op), builder_.CreateVector(args.data(), args.size()));
  return SendLocked(wire::Request::Call, body.Union());
}

}  // namespace rcuda::client
