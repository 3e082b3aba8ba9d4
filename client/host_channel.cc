#include "client/host_channel.h"

#include <unistd.h>

#include "client/log.h"

namespace rcuda::client {

HostChannelClient::~HostChannelClient() {
  if (connection_) connection_->Shutdown();
  if (thread_.joinable()) thread_.join();
}

void HostChannelClient::Start(std::unique_ptr<Connection> connection) {
  connection_ = std::move(connection);
  started_ = true;
  thread_ = std::thread([this] { Serve(); });
}

Status HostChannelClient::status() {
  std::lock_guard lock(mu_);
  return status_;
}

uint64_t HostChannelClient::AddHostFunction(std::function<void()> fn, bool once) {
  std::lock_guard lock(mu_);
  uint64_t id = ++next_id_;
  Entry& e = entries_[id];
  e.fn = std::move(fn);
  e.once = once;
  if (once) ++pending_functions_;
  return id;
}

uint64_t HostChannelClient::AddPendingCopy(const HostRegion& region, bool once) {
  std::lock_guard lock(mu_);
  uint64_t id = ++next_id_;
  Entry& e = entries_[id];
  e.region = region;
  e.is_copy = true;
  e.once = once;
  return id;
}

void HostChannelClient::Remove(uint64_t id) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  if (it->second.once && !it->second.is_copy) --pending_functions_;
  entries_.erase(it);
  idle_cv_.notify_all();
}

Status HostChannelClient::WaitForHostFunctions() {
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [&] { return pending_functions_ == 0 || !status_.ok(); });
  return status_;
}

void HostChannelClient::Stop(const Status& why) {
  std::lock_guard lock(mu_);
  if (status_.ok()) status_ = why.ok() ? Status::IoError("host channel closed") : why;
  idle_cv_.notify_all();
}

void HostChannelClient::Fail(const Status& why) {
  Stop(why);
  if (started_.load()) connection_->Shutdown();  // started_ is set once connection_ is
}

void HostChannelClient::AbandonInForkedChild() {
  if (!connection_) return;
  for (int fd : connection_->HandoffHandles()) close(fd);
}

void HostChannelClient::Serve() {
  std::vector<uint8_t> frame;
  flatbuffers::FlatBufferBuilder builder(64);
  Status s;
  while (s.ok()) s = ServeOne(frame, builder);
  // However the channel ends, whoever waits for a host function learns it:
  // the function will not run.
  Stop(s);
  connection_->Shutdown();
}

Status HostChannelClient::ServeOne(std::vector<uint8_t>& frame, flatbuffers::FlatBufferBuilder& builder) {
  FrameHeader header;
  RCUDA_RETURN_IF_ERROR(ReadFrame(*connection_, &header, &frame));
  flatbuffers::Verifier verifier(frame.data(), frame.size());
  if (!verifier.VerifyBuffer<wire::ChannelMessage>(nullptr)) {
    Status s = Status::Corruption("malformed message on the host channel from " + connection_->PeerName());
    Log(LogLevel::kError, s.message() + "; closing it");
    return s;
  }
  const auto* m = flatbuffers::GetRoot<wire::ChannelMessage>(frame.data());
  Entry entry;
  bool known;
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(m->id());
    known = it != entries_.end();
    if (known) {
      entry = it->second;
      if (entry.once) entries_.erase(it);
    }
  }
  int error = 0;
  Status s;
  if (!known || (m->kind() == 2) != entry.is_copy) {
    Log(LogLevel::kError, "the server named an unknown host channel entry");
    error = 1;
    s = DiscardBulk(*connection_, header.bulk_bytes);
  } else if (entry.is_copy) {
    // The packed rows go straight into the program's memory.
    const HostRegion& r = entry.region;
    if (header.bulk_bytes != r.bytes()) {
      Log(LogLevel::kError, "host channel data does not match its copy");
      error = 1;
      s = DiscardBulk(*connection_, header.bulk_bytes);
    } else if (r.pitch == r.width && (r.depth == 1 || r.slice_height == r.height)) {
      s = connection_->ReadExact(r.base, r.bytes());
    } else {
      for (uint64_t z = 0; z < r.depth && s.ok(); ++z)
        for (uint64_t y = 0; y < r.height && s.ok(); ++y)
          s = connection_->ReadExact(r.base + (z * r.slice_height + y) * r.pitch, r.width);
    }
  } else {
    s = DiscardBulk(*connection_, header.bulk_bytes);
    if (s.ok()) entry.fn();
    if (entry.once) {
      std::lock_guard lock(mu_);
      --pending_functions_;
      idle_cv_.notify_all();
    }
  }
  RCUDA_RETURN_IF_ERROR(s);
  builder.Clear();
  builder.Finish(wire::CreateHostAck(builder, m->id(), error));
  return WriteFrame(*connection_, std::span(builder.GetBufferPointer(), builder.GetSize()));
}

}  // namespace rcuda::client
