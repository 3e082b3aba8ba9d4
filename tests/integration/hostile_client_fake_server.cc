#include "hostile_client_fake_server.h"

#include <cuda_runtime_api.h>

#include <cstring>

#include "protocol/call_ops.h"
#include "protocol/tcp_transport.h"
#include "protocol/version.h"

namespace rcuda::itest {
namespace {

using Builder = flatbuffers::FlatBufferBuilder;

// What a device looks like: enough attributes for launch checks to pass.
flatbuffers::Offset<wire::DeviceInfo> Device(Builder& b) {
  std::vector<int32_t> attributes(256, 0);
  attributes[cudaDevAttrMaxThreadsPerBlock] = 1024;
  attributes[cudaDevAttrMaxBlockDimX] = 1024;
  attributes[cudaDevAttrMaxBlockDimY] = 1024;
  attributes[cudaDevAttrMaxBlockDimZ] = 64;
  attributes[cudaDevAttrMaxGridDimX] = 0x7fffffff;
  attributes[cudaDevAttrMaxGridDimY] = 65535;
  attributes[cudaDevAttrMaxGridDimZ] = 65535;
  attributes[cudaDevAttrMultiProcessorCount] = 1;
  std::vector<uint8_t> props(sizeof(cudaDeviceProp), 0);
  auto name = b.CreateString("fake server (TEST EQUIPMENT)");
  auto p = b.CreateVector(props);
  auto a = b.CreateVector(attributes);
  auto backend = b.CreateString("test");
  return wire::CreateDeviceInfo(b, name, p, a, 13000, backend, /*test_device=*/true, 90);
}

// How many values the real server returns for a call (protocol/call_ops.h).
size_t Results(uint32_t op) {
  switch (static_cast<CallOp>(op)) {
    case CallOp::kStreamGetInfo: return 2;
    case CallOp::kDeviceSetLimit:
    case CallOp::kFuncSetAttribute:
    case CallOp::kFuncSetCacheConfig:
    case CallOp::kMemPoolDestroy:
    case CallOp::kMemPoolSetAttribute:
    case CallOp::kMemPoolTrimTo:
    case CallOp::kDeviceSetMemPool:
    case CallOp::kDeviceSetCacheConfig: return 0;
    default: return 1;
  }
}

bool IsAsync(const wire::Message& m) {
  switch (m.request_type()) {
    case wire::Request::MemcpyHtoD:
    case wire::Request::MemcpyDtoD:
    case wire::Request::Memset:
    case wire::Request::Memset3D:
    case wire::Request::Launch:
    case wire::Request::StreamDestroy:
    case wire::Request::EventDestroy:
    case wire::Request::EventRecord:
    case wire::Request::StreamWaitEvent:
    case wire::Request::HostFunction:
    case wire::Request::GraphLaunch:
    case wire::Request::GraphExecDestroy:
      return true;
    case wire::Request::Memcpy3D: {
      const auto* c = m.request_as_Memcpy3D();
      return c && (c->direction() != wire::CopyDirection::DeviceToHost || c->pending() != 0);
    }
    case wire::Request::Call: {
      const auto* c = m.request_as_Call();
      return c && c->op() == static_cast<uint32_t>(CallOp::kFreeAsync);
    }
    default:
      return false;
  }
}

}  // namespace

FakeServer::FakeServer(Script script) : script_(std::move(script)) {
  if (!TcpListen("127.0.0.1", 0, &listener_).ok()) return;
  port_ = listener_->Port();
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

FakeServer::~FakeServer() {
  stopping_ = true;
  if (listener_) listener_->Close();
  if (acceptor_.joinable()) acceptor_.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    for (auto& c : connections_) c->Shutdown();
    threads.swap(threads_);
  }
  for (auto& t : threads) t.join();
}

void FakeServer::AcceptLoop() {
  while (!stopping_) {
    std::unique_ptr<Connection> connection;
    if (!listener_->Accept(&connection).ok()) continue;
    std::lock_guard lock(mu_);
    if (stopping_) break;
    Connection* c = connection.get();
    connections_.push_back(std::move(connection));
    threads_.emplace_back([this, c] { Serve(c); });
  }
}

void FakeServer::Serve(Connection* connection) {
  while (true) {
    FrameHeader header;
    std::vector<uint8_t> frame;
    if (!ReadFrame(*connection, &header, &frame).ok()) return;
    const wire::Message* m = VerifiedMessage(frame);
    if (!m || !Answer(*connection, *m, header.bulk_bytes)) return;
  }
}

bool FakeServer::Reply(Connection& connection, const wire::Message& m, wire::ReplyBody type,
                       const std::function<flatbuffers::Offset<void>(Builder&)>& body,
                       std::span<const ConstBuffer> bulk) {
  Builder b(1024);
  flatbuffers::Offset<void> offset = body && type != wire::ReplyBody::NONE ? body(b) : 0;
  wire::ReplyBuilder reply(b);
  reply.add_id(m.id());
  if (type != wire::ReplyBody::NONE) {
    reply.add_body_type(type);
    // The broken reply: the union's type, but no table.
    if (!script_.bodiless.count(m.request_type())) reply.add_body(offset);
  }
  b.Finish(reply.Finish());
  return WriteFrame(connection, std::span(b.GetBufferPointer(), b.GetSize()), bulk).ok();
}

bool FakeServer::Answer(Connection& connection, const wire::Message& m, uint64_t bulk_bytes) {
  if (!DiscardBulk(connection, bulk_bytes).ok()) return false;
  uint64_t handle;
  {
    std::lock_guard lock(mu_);
    handle = ++next_handle_;
  }
  if (IsAsync(m)) {
    if (m.request_type() == wire::Request::HostFunction && script_.garbage_on_host_channel) {
      std::lock_guard lock(mu_);
      if (host_channel_) {
        const char garbage[] = "not a flatbuffer at all";
        WriteFrame(*host_channel_, std::span(reinterpret_cast<const uint8_t*>(garbage), sizeof garbage));
      }
    }
    return true;
  }
  switch (m.request_type()) {
    case wire::Request::Hello: {
      const wire::Hello* h = m.request_as_Hello();
      const bool channel = h && h->attach_key() && h->attach_key()->size();
      if (channel) {
        std::lock_guard lock(mu_);
        host_channel_ = &connection;
      } else if (script_.silent) {
        return true;  // read on, never answer
      }
      return Reply(connection, m, wire::ReplyBody::HelloReply, [&](Builder& b) {
        auto key = b.CreateString("fake-session-key");
        auto device = channel ? flatbuffers::Offset<wire::DeviceInfo>() : Device(b);
        wire::HelloReplyBuilder r(b);
        r.add_protocol_version(kProtocolVersion);
        r.add_accepted(true);
        if (!channel) r.add_device(device);
        r.add_session_key(key);
        return r.Finish().Union();
      });
    }
    case wire::Request::MemAlloc:
      return Reply(connection, m, wire::ReplyBody::MemAllocReply,
                   [&](Builder& b) { return wire::CreateMemAllocReply(b, handle << 20).Union(); });
    case wire::Request::MallocPitch:
      return Reply(connection, m, wire::ReplyBody::MallocPitchReply,
                   [&](Builder& b) { return wire::CreateMallocPitchReply(b, handle << 20, 512).Union(); });
    case wire::Request::MemGetInfo:
      return Reply(connection, m, wire::ReplyBody::MemGetInfoReply,
                   [&](Builder& b) { return wire::CreateMemGetInfoReply(b, 1 << 30, 1 << 30).Union(); });
    case wire::Request::StreamCreate:
    case wire::Request::EventCreate:
    case wire::Request::GraphInstantiate:
      return Reply(connection, m, wire::ReplyBody::HandleReply,
                   [&](Builder& b) { return wire::CreateHandleReply(b, handle).Union(); });
    case wire::Request::EventElapsedTime:
      return Reply(connection, m, wire::ReplyBody::ElapsedTimeReply,
                   [&](Builder& b) { return wire::CreateElapsedTimeReply(b, 1.0f).Union(); });
    case wire::Request::Call: {
      const auto* c = m.request_as_Call();
      std::vector<int64_t> values(script_.call_without_values || !c ? 0 : Results(c->op()), 0);
      return Reply(connection, m, wire::ReplyBody::CallReply, [&](Builder& b) {
        return (script_.call_without_values ? wire::CreateCallReply(b) : wire::CreateCallReplyDirect(b, &values))
            .Union();
      });
    }
    case wire::Request::ModuleLoad: {
      const auto* load = m.request_as_ModuleLoad();
      const size_t functions = load && load->functions() ? load->functions()->size() : 0;
      const size_t variables = load && load->variables() ? load->variables()->size() : 0;
      std::vector<KernelParamInfo> layout = script_.layout;
      if (layout.empty()) layout = {{0, 4}, {8, 8}};  // hostile_kernel(int, float*)
      return Reply(connection, m, wire::ReplyBody::ModuleLoadReply, [&](Builder& b) {
        std::vector<uint32_t> offsets, sizes;
        for (const auto& p : layout) {
          offsets.push_back(p.offset);
          sizes.push_back(p.size);
        }
        std::vector<flatbuffers::Offset<wire::FunctionInfo>> fs;
        for (size_t i = 0; i < functions; ++i) {
          auto o = b.CreateVector(offsets);
          auto s = b.CreateVector(sizes);
          wire::FunctionInfoBuilder f(b);
          f.add_found(true);
          f.add_handle(handle + i);
          f.add_param_offsets(o);
          f.add_param_sizes(s);
          f.add_max_threads_per_block(1024);
          fs.push_back(f.Finish());
        }
        std::vector<flatbuffers::Offset<wire::VariableInfo>> vs;
        for (size_t i = 0; i < variables; ++i) vs.push_back(wire::CreateVariableInfo(b, false));
        return wire::CreateModuleLoadReplyDirect(b, &fs, &vs).Union();
      });
    }
    case wire::Request::MemcpyDtoH: {
      const auto* c = m.request_as_MemcpyDtoH();
      std::vector<uint8_t> zeros(c ? c->size() : 0, 0);
      ConstBuffer bulk{zeros.data(), zeros.size()};
      return Reply(connection, m, wire::ReplyBody::NONE, nullptr, std::span(&bulk, 1));
    }
    default:  // a synchronization, a free: a reply without a body
      return Reply(connection, m, wire::ReplyBody::NONE, nullptr);
  }
}

}  // namespace rcuda::itest
