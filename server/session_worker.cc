#include "server/session_worker.h"

#include <sys/socket.h>

#include <spdlog/spdlog.h>

#include <array>
#include <chrono>
#include <cstring>

#include "common/cuda_error_codes.h"
#include "common/env.h"
#include "protocol/lease_token.h"
#include "protocol/adopt.h"
#include "protocol/tls/tls_preamble.h"
#include "protocol/version.h"
#include "server/fd_passing.h"
#include "server/session_worker_tls.h"

namespace rcuda {
namespace {

constexpr int kInvalidValue = kCudaErrorInvalidValue;
constexpr int kInvalidResourceHandle = kCudaErrorInvalidResourceHandle;
constexpr int kNotReady = kCudaErrorNotReady;
constexpr size_t kMaxParamBytes = 32 << 10;  // CUDA's limit is 32764 bytes

Dim3 ToDim3(const wire::Dim3* d) { return d ? Dim3{d->x(), d->y(), d->z()} : Dim3{}; }

std::string Hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

SessionWorker::SessionWorker(std::unique_ptr<Connection> connection, std::unique_ptr<Executor> executor,
                             Status open_status, SessionPolicy policy)
    : connection_(std::move(connection)),
      executor_(std::move(executor)),
      open_status_(std::move(open_status)),
      policy_(std::move(policy)) {}

SessionWorker::~SessionWorker() {
  ending_.store(true);
  libraries_.Release();  // the library handles the session still holds, while its context lives
  ReleaseHostSegments();
  host_channel_.Close();
  if (policy_.control_fd >= 0) shutdown(policy_.control_fd, SHUT_RDWR);
  if (attach_thread_.joinable()) attach_thread_.join();
}

void SessionWorker::AttachLoop() {
  while (true) {
    Handoff handoff;
    bool closed = false;
    if (!ReceiveSession(policy_.control_fd, &handoff, &closed).ok()) {
      if (closed && !ending_.load()) {
        // The daemon is gone (stopped or killed): its sessions end with it.
        spdlog::warn("the daemon is gone; ending the session");
        connection_->Shutdown();
      }
      return;
    }
    std::unique_ptr<Connection> connection;
    if (handoff.kind == kTlsTransportName) {
      // The handshake and the channel's Hello inside TLS (which replaces
      // the daemon's copy of the plaintext preamble).
      if (Status s = AcceptTlsChannel(policy_, &handoff, &connection); !s.ok()) {
        spdlog::warn("TLS host channel failed: {}", s.message());
        continue;
      }
    } else if (!AdoptConnection(handoff.kind, handoff.fds, &connection).ok()) {
      continue;
    }
    const std::vector<uint8_t>& hello = handoff.hello;
    const wire::Message* message = VerifiedMessage(hello);
    const wire::Hello* h = message ? message->request_as_Hello() : nullptr;
    if (h && h->stripe() > 0) {
      AttachStripe(*h, message->id(), handoff.kind, std::move(connection));
      continue;
    }
    bool ok = h && h->attach_key() && h->attach_key()->str() == policy_.session_key && !host_channel_.attached();
    if (!SendAttachReply(*connection, message ? message->id() : 0, ok, "bad or repeated host channel attachment")
             .ok() ||
        !ok) {
      spdlog::warn("refused a host channel attachment from {}", connection->PeerName());
      continue;
    }
    spdlog::debug("host channel attached from {}", connection->PeerName());
    host_channel_.Attach(std::move(connection));
  }
}

Status SessionWorker::SendAttachReply(Connection& connection, uint64_t id, bool ok, const std::string& why) {
  flatbuffers::FlatBufferBuilder builder(256);
  auto text = builder.CreateString(ok ? "" : why);
  wire::HelloReplyBuilder reply(builder);
  reply.add_protocol_version(kProtocolVersion);
  reply.add_accepted(ok);
  reply.add_message(text);
  auto body = reply.Finish();
  wire::ReplyBuilder envelope(builder);
  envelope.add_id(id);
  envelope.add_error(ok ? 0 : kCudaErrorInvalidValue);
  envelope.add_body_type(wire::ReplyBody::HelloReply);
  envelope.add_body(body.Union());
  builder.Finish(envelope.Finish());
  return WriteFrame(connection, std::span(builder.GetBufferPointer(), builder.GetSize()));
}

Status SessionWorker::Run(std::span<const uint8_t> hello) {
  RCUDA_RETURN_IF_ERROR(Handshake(hello));
  if (policy_.device_output_bytes > 0) {
    // From here the driver's writes to stdout are the session's
    // (device_output.h); before, they were the warm worker's, for the log.
    if (Status c = DeviceOutput::Capture(policy_.device_output_bytes, &device_output_); !c.ok()) {
      spdlog::warn("device output stays in the server's stdout: {}", c.message());
    }
  }
  if (executor_) executor_->set_host_channel(&host_channel_);
  if (policy_.control_fd >= 0) attach_thread_ = std::thread([this] { AttachLoop(); });
  SessionMonitor::Options watch;
  watch.idle_timeout = policy_.idle_timeout;
  watch.gone_grace = policy_.gone_grace;
  monitor_ = std::make_unique<SessionMonitor>(connection_.get(), watch, [] {
    // The session thread is stuck on the GPU and its client is gone: the
    // process is the session, and its end frees what it held.
    std::fflush(nullptr);
    _exit(3);
  });
  monitor_->Start();
  FrameHeader header;
  while (true) {
    bool peer_left = false;
    monitor_->Reading();
    Status s = ReadFrame(*connection_, &header, &frame_, &peer_left, kMaxMessageBytes, /*allow_striped=*/true);
    monitor_->Serving();
    if (!s.ok()) {
      if (monitor_->ended_idle()) return Status::Unavailable("idle for longer than --session-idle-timeout");
      // The client closing its end between frames is how a session ends.
      if (peer_left) {
        spdlog::info("client left: {}", s.message());
        return Status::Ok();
      }
      return s;
    }
    const wire::Message* message = VerifiedMessage(frame_);
    if (!message) return Status::Corruption("malformed message from " + connection_->PeerName());
    if (message->id() != next_id_ + 1) {
      return Status::Corruption("message id " + std::to_string(message->id()) + " out of sequence (expected " +
                                std::to_string(next_id_ + 1) + ")");
    }
    next_id_ = message->id();
    RCUDA_RETURN_IF_ERROR(BeginFrameBulk(header, *message));
    RCUDA_RETURN_IF_ERROR(Serve(*message, header.bulk_bytes));
    RCUDA_RETURN_IF_ERROR(EndFrameBulk());
    // A large message (up to 64 MiB) does not keep its buffer.
    if (frame_.capacity() > (1u << 20)) std::vector<uint8_t>().swap(frame_);
  }
}

Status SessionWorker::Handshake(std::span<const uint8_t> hello_bytes) {
  FrameHeader header{kFrameMagic, 0, 0};
  if (hello_bytes.empty()) {
    RCUDA_RETURN_IF_ERROR(ReadFrame(*connection_, &header, &frame_));
  } else {
    frame_.assign(hello_bytes.begin(), hello_bytes.end());
  }
  const wire::Message* message = VerifiedMessage(frame_);
  const wire::Hello* hello = message ? message->request_as_Hello() : nullptr;
  if (!hello || header.bulk_bytes != 0) return Status::Corruption("the first message is not a valid Hello");
  next_id_ = message->id();
  std::string program = hello->program() ? hello->program()->str() : "?";
  spdlog::info("session from {} (program '{}', pid {}, host '{}') asks for GPU {}", connection_->PeerName(), program,
               hello->client_pid(), hello->client_host() ? hello->client_host()->str() : "?", hello->gpu());

  auto refuse = [&](const std::string& why) -> Status {
    builder_.Clear();
    auto text = builder_.CreateString(why);
    auto server_version = builder_.CreateString(kRcudaVersion);
    wire::HelloReplyBuilder reply(builder_);
    reply.add_protocol_version(kProtocolVersion);
    reply.add_accepted(false);
    reply.add_message(text);
    reply.add_server_version(server_version);
    auto body = reply.Finish();
    Status s = SendReply(message->id(), Status::Unavailable(why), wire::ReplyBody::HelloReply,
                         body.Union());
    return s.ok() ? Status::Unavailable("session refused: " + why) : s;
  };

  if (hello->protocol_version() != kProtocolVersion) {
    return refuse("protocol version mismatch: client speaks rcuda protocol " +
                  std::to_string(hello->protocol_version()) + ", server speaks " + std::to_string(kProtocolVersion));
  }
  if (!policy_.auth_key.empty()) {
    // A lease from ssgmd: a valid, unexpired token that grants this
    // server's GPU, whose memory grant becomes the session's limit.
    std::string token = hello->token() ? hello->token()->str() : "";
    if (token.empty()) return refuse("this server requires a lease token (RCUDA_TOKEN from ssgm request)");
    LeaseClaims claims;
    Status v = VerifyLeaseToken(token, policy_.auth_key, NowUnixSeconds(), &claims);
    if (!v.ok()) return refuse("lease token refused: " + v.message());
    const LeaseGrant* grant = FindGrant(claims, policy_.node_name, policy_.port, hello->gpu());
    if (!grant) {
      return refuse("lease " + claims.lease_id + " does not grant GPU " + std::to_string(hello->gpu()) +
                    " of this server (port " + std::to_string(policy_.port) + ")");
    }
    // The grant is the lease's on this GPU, whatever its number of
    // sessions: they charge one account, which the daemon keeps.
    std::unique_ptr<LeaseMemory> shared;
    if (policy_.lease_fd >= 0) {
      Status m = LeaseMemory::Map(policy_.lease_fd, &shared);
      if (!m.ok()) spdlog::warn("lease memory account: {}; counting this session alone", m.message());
    } else {
      spdlog::warn("no lease memory account from the daemon; counting this session alone");
    }
    budget_.Configure(grant->mem_bytes, std::move(shared), policy_.lease_slot);
    spdlog::info("session holds lease {} ({} bytes of GPU memory)", claims.lease_id, grant->mem_bytes);
  }
  if (hello->gpu() != policy_.gpu) {
    return refuse("internal error: session for GPU " + std::to_string(hello->gpu()) + " routed to a worker of GPU " +
                  std::to_string(policy_.gpu));
  }
  Status s = open_status_;
  DeviceDescription device;
  if (s.ok()) s = executor_->Describe(&device);
  if (!s.ok()) return refuse("cannot open GPU " + std::to_string(hello->gpu()) + ": " + s.message());
  // A stack size reserves that much for every thread the GPU can hold.
  constexpr int kMultiprocessors = 16, kThreadsPerMultiprocessor = 39;  // cudaDeviceAttr
  arch_ = device.arch;
  if (device.attributes.size() > kThreadsPerMultiprocessor) {
    resident_threads_ = std::max<uint64_t>(1, uint64_t(std::max(1, device.attributes[kMultiprocessors])) *
                                                  uint64_t(std::max(1, device.attributes[kThreadsPerMultiprocessor])));
  }

  builder_.Clear();
  auto name = builder_.CreateString(device.name);
  auto props = builder_.CreateVector(device.props);
  auto attributes = builder_.CreateVector(device.attributes);
  auto backend = builder_.CreateString(device.backend);
  wire::DeviceInfoBuilder info(builder_);
  info.add_name(name);
  info.add_props(props);
  info.add_attributes(attributes);
  info.add_driver_version(device.driver_version);
  info.add_backend(backend);
  info.add_test_device(device.test_device);
  info.add_arch(device.arch);
  auto info_offset = info.Finish();
  auto server_version = builder_.CreateString(kRcudaVersion);
  auto session_key = builder_.CreateString(policy_.session_key);
  int32_t least = 0, greatest = 0;
  executor_->StreamPriorityRange(&least, &greatest);
  wire::HelloReplyBuilder reply(builder_);
  reply.add_protocol_version(kProtocolVersion);
  reply.add_accepted(true);
  reply.add_device(info_offset);
  reply.add_server_version(server_version);
  reply.add_memory_limit(budget_.limit());
  reply.add_session_key(session_key);
  // Data streams only beside a plain TCP connection: TLS would need each
  // of them to be a TLS connection too, UCX and shared memory have their own.
  if (connection_->Kind() == "tcp") reply.add_tcp_streams(static_cast<uint32_t>(policy_.tcp_streams));
  reply.add_stream_priority_least(least);
  reply.add_stream_priority_greatest(greatest);
  auto body = reply.Finish();
  spdlog::info("session accepted on {} ({} backend)", device.name, device.backend);
  return SendReply(message->id(), Status::Ok(), wire::ReplyBody::HelloReply, body.Union());
}

Status SessionWorker::CheckHandle(HandleKind kind, uint64_t handle, const char* op, const char* arg) const {
  if (handles_.Has(kind, handle)) return Status::Ok();
  return Status::Cuda(kInvalidResourceHandle, std::string(op) + ": " + arg + " " + Hex(handle) + " is not a " +
                                            HandleKindName(kind) + " of this session");
}

Status SessionWorker::CheckMemory(const char* op, const char* arg, uint64_t ptr, uint64_t size) const {
  if (allocations_.Contains(ptr, size)) return Status::Ok();
  return Status::InvalidValue(std::string(op) + ": " + arg + " " + Hex(ptr) + " (" + std::to_string(size) +
                              " bytes) is not inside memory this session allocated");
}

Status SessionWorker::TakeAllocation(const char* op, uint64_t ptr, uint64_t* bytes) {
  if (allocations_.RemoveMalloc(ptr, bytes)) return Status::Ok();
  return Status::InvalidValue(std::string(op) + " of " + Hex(ptr) + ", which this session did not allocate");
}

Status SessionWorker::TooManyHandles() {
  return Status::OutOfMemory("too many streams, events, graphs and pools in this session");
}

Status SessionWorker::SendReply(uint64_t id, const Status& result, wire::ReplyBody body_type,
                                flatbuffers::Offset<void> body, std::span<const ConstBuffer> bulk) {
  Status s = FinishReply(&builder_, id, result, body_type, body, bulk);
  builder_.Clear();
  return s;
}

Status SessionWorker::FinishReply(flatbuffers::FlatBufferBuilder* builder, uint64_t id, const Status& result,
                                  wire::ReplyBody body_type, flatbuffers::Offset<void> body,
                                  std::span<const ConstBuffer> bulk) {
  // Replies leave from the session loop and from the wait pool: the
  // pending asynchronous error goes with whichever is first, and frames
  // never interleave. The device's output is taken under the frame lock,
  // so that it reaches the client in the order the driver wrote it.
  MutexLock lock(&write_mu_);
  Status async_error = TakeAsyncError();
  auto message = result.ok() ? 0 : builder->CreateString(result.message());
  auto async_message = async_error.ok() ? 0 : builder->CreateString(async_error.message());
  auto output = DeviceOutputVector(builder);
  wire::ReplyBuilder reply(*builder);
  reply.add_id(id);
  reply.add_error(result.ToCudaError());
  if (!result.ok()) reply.add_message(message);
  reply.add_async_error(async_error.ToCudaError());
  if (!async_error.ok()) reply.add_async_message(async_message);
  if (body_type != wire::ReplyBody::NONE) {
    reply.add_body_type(body_type);
    reply.add_body(body);
  }
  if (!output.IsNull()) reply.add_device_output(output);
  builder->Finish(reply.Finish());
  return WriteReplyFrame(std::span(builder->GetBufferPointer(), builder->GetSize()), bulk);
}

flatbuffers::Offset<flatbuffers::Vector<uint8_t>> SessionWorker::DeviceOutputVector(
    flatbuffers::FlatBufferBuilder* builder) {
  if (!device_output_) return 0;
  std::string text = device_output_->Take();
  if (text.empty()) return 0;
  return builder->CreateVector(reinterpret_cast<const uint8_t*>(text.data()), text.size());
}

Status SessionWorker::TakeAsyncError() {
  MutexLock lock(&async_mu_);
  Status s = async_error_;
  async_error_ = Status::Ok();
  return s;
}

void SessionWorker::RecordAsyncError(const Status& status) {
  if (status.ok()) return;
  spdlog::debug("asynchronous error: {}", status.ToString());
  MutexLock lock(&async_mu_);
  if (async_error_.ok()) async_error_ = status;
}

Status SessionWorker::LookBriefly(Executor::WaitTarget target, uint64_t handle) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(50);
  Status s;
  do {
    s = executor_->Query(target, handle);
  } while (s.ToCudaError() == kNotReady && std::chrono::steady_clock::now() < deadline);
  return s;
}

Status SessionWorker::WaitThenReply(uint64_t id, Executor::WaitTarget target, uint64_t handle) {
  // Usually the work is done by the time the request arrives (the network
  // is slower than short kernels); a bad handle or a fault is known at once
  // too. Either way the answer goes out now. Otherwise look again for a
  // little while, then hand the wait to the pool and read on.
  Status s = LookBriefly(target, handle);
  builder_.Clear();
  if (s.ToCudaError() != kNotReady) {
    // Done: the query was the driver call, unless the stream-ordered
    // allocator must still hear of frees (cuda_executor_waits.cc).
    if (s.ok()) s = executor_->SettleWait(target, handle);
    return SendReply(id, s);
  }
  std::function<Status()> wait;
  s = executor_->PrepareWait(target, handle, &wait);
  if (!s.ok()) return SendReply(id, s);
  RunWait([this, id, wait = std::move(wait)] {
    Status result = wait();
    flatbuffers::FlatBufferBuilder builder(256);
    // A failed write means the client is gone; the session loop sees it too.
    FinishReply(&builder, id, result, wire::ReplyBody::NONE, 0, {});
  });
  return Status::Ok();
}

void SessionWorker::RunWait(std::function<void()> task) {
  if (monitor_) monitor_->WaitStarted();
  std::function<void()> counted = [this, task = std::move(task)] {
    task();
    if (monitor_) monitor_->WaitDone();
  };
  // Every pool thread busy and no more allowed: this session waits here,
  // and reads its next request when this one is done.
  if (!waits_.TryRun(std::move(counted))) counted();
}

Status SessionWorker::ConsumeBulk(uint64_t bulk_bytes, const std::function<Status(const ChunkReader&)>& use) {
  uint64_t consumed = 0;
  Status transport;  // a transport failure ends the session
  Status s = use([&](void* dst, size_t n) {
    transport = ReadBulk(dst, n);
    if (transport.ok()) consumed += n;
    return transport;
  });
  RCUDA_RETURN_IF_ERROR(transport);
  if (!s.ok()) {
    // The GPU side failed: the error goes with a later reply, and the rest
    // of the bulk is read and dropped to keep the stream in step.
    RecordAsyncError(s);
    return DiscardBulk(*connection_, bulk_bytes - consumed);
  }
  return Status::Ok();
}

Status SessionWorker::HandleMemcpyDtoH(const wire::MemcpyDtoH& r, uint64_t id) {
  builder_.Clear();
  if (r.size() == 0) return SendReply(id, Status::Ok());
  // Behind busy work, the copy waits on the wait pool: the session's other
  // host threads go on meanwhile, as they do natively (one may even be about
  // to launch what the busy work waits for).
  if (LookBriefly(Executor::WaitTarget::kStream, r.stream()).ToCudaError() == kNotReady) {
    std::function<Status()> wait;
    std::function<void()> release;
    const void* data = nullptr;
    if (executor_->PrepareCopyFromDevice(r.src(), r.size(), r.stream(), &wait, &data, &release).ok()) {
      RunWait([this, id, size = r.size(), wait = std::move(wait), data, release = std::move(release)] {
        Status result = wait();
        flatbuffers::FlatBufferBuilder builder(256);
        ConstBuffer bytes{data, static_cast<size_t>(size)};
        // A failed write means the client is gone; the session loop sees it too.
        FinishReply(&builder, id, result, wire::ReplyBody::NONE, 0,
                    result.ok() ? std::span<const ConstBuffer>(&bytes, 1) : std::span<const ConstBuffer>());
        release();
      });
      return Status::Ok();
    }
  }
  return StreamReply(id, r.size(), [&](const ChunkWriter& write) {
    return executor_->CopyFromDevice(r.src(), r.size(), r.stream(), write);
  });
}

Status SessionWorker::StreamReply(uint64_t id, uint64_t bytes,
                                  const std::function<Status(const ChunkWriter&)>& produce) {
  // The reply goes out with the first chunk, once the copy is known to work;
  // its frame announces the whole size.
  bool started = false;
  uint64_t sent = 0;
  Status transport;
  std::unique_lock<Mutex> write_lock(write_mu_, std::defer_lock);
  Status s = produce([&](const void* src, size_t n) {
    if (!started) {
      started = true;
      builder_.Clear();
      write_lock.lock();  // held until the whole bulk is out
      Status async_error = TakeAsyncError();
      auto async_message = async_error.ok() ? 0 : builder_.CreateString(async_error.message());
      auto output = DeviceOutputVector(&builder_);
      wire::ReplyBuilder reply(builder_);
      reply.add_id(id);
      reply.add_async_error(async_error.ToCudaError());
      if (!async_error.ok()) reply.add_async_message(async_message);
      if (!output.IsNull()) reply.add_device_output(output);
      builder_.Finish(reply.Finish());
      transport = StartReplyBulk(std::span(builder_.GetBufferPointer(), builder_.GetSize()), bytes,
                                 ConstBuffer{src, n});
    } else {
      transport = ContinueReplyBulk(ConstBuffer{src, n});
    }
    if (transport.ok()) sent += n;
    return transport;
  });
  RCUDA_RETURN_IF_ERROR(transport);
  if (!started) {
    builder_.Clear();
    return SendReply(id, s.ok() ? Status::Corruption("copy produced no data") : s);
  }
  // Still holding write_lock: the padding below belongs to this frame.
  if (!s.ok() || sent != bytes) {
    // The frame promised `bytes`: keep the stream in step, and let the
    // client learn of the failure with its next reply.
    RecordAsyncError(s.ok() ? Status::Cuda(kCudaErrorUnknown, "short device-to-host copy") : s);
    std::vector<char> zeros(std::min<uint64_t>(bytes - sent, 1 << 20));
    while (sent < bytes) {
      size_t n = std::min<uint64_t>(zeros.size(), bytes - sent);
      RCUDA_RETURN_IF_ERROR(ContinueReplyBulk(ConstBuffer{zeros.data(), n}));
      sent += n;
    }
  }
  return EndReplyBulk();
}

Status SessionWorker::HandleLaunch(const wire::Launch& r) {
  std::span<const uint8_t> params;
  if (r.params()) params = std::span(r.params()->data(), r.params()->size());
  if (params.size() > kMaxParamBytes) {
    RecordAsyncError(Status::Cuda(kInvalidValue, "kernel parameters exceed 32 KiB"));
    return Status::Ok();
  }
  LaunchOptions options;
  options.cooperative = r.cooperative();
  if (r.cluster()) options.cluster = ToDim3(r.cluster());
  options.has_priority = r.has_priority();
  options.priority = r.priority();
  RecordAsyncError(executor_->Launch(r.function(), ToDim3(r.grid()), ToDim3(r.block()), r.shared_bytes(), r.stream(),
                                     params, options));
  return Status::Ok();
}

}  // namespace rcuda
