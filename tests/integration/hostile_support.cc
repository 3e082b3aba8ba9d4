#include "hostile_support.h"

#include <algorithm>
#include <fstream>

#include "common/env.h"
#include "protocol/lease_token.h"
#include "protocol/version.h"

namespace rcuda::itest {

void RequireOpen(RawClient& c, const TestServer& server, Via via, const HelloFields& fields) {
  server.WaitForWarmWorker();
  Status s = c.Connect(server.port(), via);
  INFO("connect over " << ViaName(via) << ": " << s.ToString());
  REQUIRE(s.ok());
  const wire::Reply* reply = nullptr;
  s = c.Hello(fields, &reply);
  INFO("hello: " << s.ToString() << "\nserver log:\n" << server.Log());
  REQUIRE(s.ok());
  REQUIRE(reply->body_as_HelloReply());
  INFO("refusal: " << (reply->body_as_HelloReply()->message() ? reply->body_as_HelloReply()->message()->str() : ""));
  REQUIRE(reply->body_as_HelloReply()->accepted());
}

const wire::Reply* RequireCall(RawClient& c, const TestServer& server, wire::Request type, const BodyBuilder& build,
                               std::span<const uint8_t> bulk, std::vector<uint8_t>* reply_bulk) {
  Status s = c.Send(type, build, bulk);
  INFO("send: " << s.ToString());
  REQUIRE(s.ok());
  const wire::Reply* reply = nullptr;
  s = c.Receive(&reply, reply_bulk);
  INFO("receive: " << s.ToString() << "\nserver log:\n" << server.Log());
  REQUIRE(s.ok());
  return reply;
}

const wire::Reply* RequireSync(RawClient& c, const TestServer& server) {
  return RequireCall(c, server, wire::Request::DeviceSynchronize,
                     [](flatbuffers::FlatBufferBuilder& b) { return wire::CreateDeviceSynchronize(b).Union(); });
}

void RequireSessionWorks(RawClient& c, const TestServer& server, uint64_t bytes) {
  const wire::Reply* r = RequireCall(c, server, wire::Request::MemAlloc, [&](flatbuffers::FlatBufferBuilder& b) {
    return wire::CreateMemAlloc(b, bytes).Union();
  });
  REQUIRE(r->error() == 0);
  REQUIRE(r->body_as_MemAllocReply());
  const uint64_t ptr = r->body_as_MemAllocReply()->ptr();
  std::vector<uint8_t> pattern(bytes);
  for (size_t i = 0; i < pattern.size(); ++i) pattern[i] = static_cast<uint8_t>(i * 13 + 7);
  REQUIRE(c.Send(wire::Request::MemcpyHtoD,
                 [&](flatbuffers::FlatBufferBuilder& b) { return wire::CreateMemcpyHtoD(b, ptr, bytes, 0).Union(); },
                 pattern)
              .ok());
  std::vector<uint8_t> back;
  r = RequireCall(
      c, server, wire::Request::MemcpyDtoH,
      [&](flatbuffers::FlatBufferBuilder& b) { return wire::CreateMemcpyDtoH(b, ptr, bytes, 0).Union(); }, {}, &back);
  CHECK(r->error() == 0);
  CHECK(r->async_error() == 0);
  CHECK(back == pattern);
  r = RequireCall(c, server, wire::Request::MemFree,
                  [&](flatbuffers::FlatBufferBuilder& b) { return wire::CreateMemFree(b, ptr).Union(); });
  CHECK(r->error() == 0);
}

void RequireFreshSessionsWork(const TestServer& server) {
  for (Via via : {Via::kTcp, Via::kShm}) {
    INFO("a fresh session over " << ViaName(via));
    RawClient c;
    RequireOpen(c, server, via);
    RequireSessionWorks(c, server);
  }
}

uint64_t DaemonResident(const TestServer& server) { return ResidentBytes(server.pid()); }

void CheckDaemonResidentNear(const TestServer& server, uint64_t before, uint64_t slack) {
  const uint64_t now = DaemonResident(server);
  INFO("daemon resident memory: " << (before >> 10) << " KiB before, " << (now >> 10) << " KiB after");
  CHECK(now > 0);
  CHECK(now <= before + ResidentGrowthBound(slack));
}

bool WaitNoSessions(const TestServer& server, milliseconds timeout) {
  return WaitUntil([&] { return server.Sessions().empty(); }, timeout);
}

pid_t NewestWorker(const TestServer& server) {
  pid_t pid = -1;
  uint64_t newest = 0;
  for (const auto& s : server.Sessions()) {
    if (s.id >= newest) {
      newest = s.id;
      pid = s.worker_pid;
    }
  }
  return pid;
}

int ThreadCount(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Threads:", 0) == 0) return std::atoi(line.c_str() + 8);
  }
  return 0;
}

uint64_t LastSessionId(const TestServer& server) {
  uint64_t last = 0;
  for (const auto& s : server.Sessions()) last = std::max(last, s.id);
  return last;
}

pid_t WorkerOfNewSession(const TestServer& server, uint64_t last_id) {
  pid_t pid = -1;
  WaitUntil(
      [&] {
        for (const auto& s : server.Sessions()) {
          if (s.id > last_id) pid = s.worker_pid;
        }
        return pid > 0;
      },
      milliseconds(10000));
  return pid;
}

int LoadHostileKernels(RawClient& c, const TestServer& server, uint64_t module_id, LoadedKernels* kernels) {
  std::string image = ReadFile(BuildPaths::HostileFatbin());
  REQUIRE_FALSE(image.empty());
  const wire::Reply* r = RequireCall(
      c, server, wire::Request::ModuleLoad,
      [&](flatbuffers::FlatBufferBuilder& b) {
        std::vector<flatbuffers::Offset<flatbuffers::String>> fns = {
            b.CreateString("fault_sleep"), b.CreateString("hostile_bump"), b.CreateString("hostile_print")};
        std::vector<flatbuffers::Offset<flatbuffers::String>> vars = {b.CreateString("hostile_global")};
        return wire::CreateModuleLoadDirect(b, module_id, &fns, &vars).Union();
      },
      std::span(reinterpret_cast<const uint8_t*>(image.data()), image.size()));
  if (r->error() != 0) return r->error();
  const wire::ModuleLoadReply* loaded = r->body_as_ModuleLoadReply();
  REQUIRE(loaded);
  REQUIRE(loaded->functions());
  REQUIRE(loaded->functions()->size() == 3);
  REQUIRE(loaded->variables());
  REQUIRE(loaded->variables()->size() == 1);
  REQUIRE(loaded->functions()->Get(0)->found());
  REQUIRE(loaded->functions()->Get(1)->found());
  REQUIRE(loaded->functions()->Get(2)->found());
  REQUIRE(loaded->variables()->Get(0)->found());
  kernels->sleep = loaded->functions()->Get(0)->handle();
  kernels->bump = loaded->functions()->Get(1)->handle();
  kernels->print = loaded->functions()->Get(2)->handle();
  kernels->global = loaded->variables()->Get(0)->address();
  kernels->global_bytes = loaded->variables()->Get(0)->size();
  return 0;
}

void SendLaunch(RawClient& c, uint64_t function, std::span<const uint8_t> params, uint64_t stream) {
  Status s = c.Send(wire::Request::Launch, [&](flatbuffers::FlatBufferBuilder& b) {
    auto p = b.CreateVector(params.data(), params.size());
    wire::Dim3 one(1, 1, 1);
    wire::LaunchBuilder launch(b);
    launch.add_function(function);
    launch.add_grid(&one);
    launch.add_block(&one);
    launch.add_stream(stream);
    launch.add_params(p);
    return launch.Finish().Union();
  });
  REQUIRE(s.ok());
}

const wire::Reply* RequireGenericCall(RawClient& c, const TestServer& server, uint32_t op,
                                      std::vector<int64_t> args) {
  return RequireCall(c, server, wire::Request::Call, [&](flatbuffers::FlatBufferBuilder& b) {
    return wire::CreateCallDirect(b, op, &args).Union();
  });
}

std::string RequireOpenWithKey(RawClient& c, const TestServer& server, Via via) {
  server.WaitForWarmWorker();
  REQUIRE(c.Connect(server.port(), via).ok());
  const wire::Reply* reply = nullptr;
  Status s = c.Hello(HelloFields{}, &reply);
  INFO(s.ToString());
  REQUIRE(s.ok());
  REQUIRE(reply->body_as_HelloReply());
  REQUIRE(reply->body_as_HelloReply()->accepted());
  REQUIRE(reply->body_as_HelloReply()->session_key());
  return reply->body_as_HelloReply()->session_key()->str();
}

RawHostChannel::~RawHostChannel() {
  if (thread_.joinable()) {
    client_.connection().Shutdown();
    thread_.join();
  }
}

Status RawHostChannel::Open(const TestServer& server, Via via, const std::string& session_key) {
  RCUDA_RETURN_IF_ERROR(client_.Connect(server.port(), via));
  HelloFields fields;
  fields.attach_key = session_key;
  const wire::Reply* reply = nullptr;
  RCUDA_RETURN_IF_ERROR(client_.Hello(fields, &reply));
  if (!reply->body_as_HelloReply() || !reply->body_as_HelloReply()->accepted()) {
    return Status::Unavailable("host channel refused");
  }
  thread_ = std::thread([this] { Serve(); });
  return Status::Ok();
}

void RawHostChannel::Serve() {
  std::vector<uint8_t> frame;
  while (true) {
    FrameHeader header;
    if (!ReadFrame(client_.connection(), &header, &frame).ok()) return;
    flatbuffers::Verifier verifier(frame.data(), frame.size());
    if (!verifier.VerifyBuffer<wire::ChannelMessage>(nullptr) || header.bulk_bytes > (1ull << 30)) return;
    const auto* m = flatbuffers::GetRoot<wire::ChannelMessage>(frame.data());
    const uint64_t id = m->id();
    std::vector<uint8_t> data(header.bulk_bytes);
    if (!data.empty() && !client_.connection().ReadExact(data.data(), data.size()).ok()) return;
    {
      std::lock_guard lock(mu_);
      deliveries_.emplace_back(id, std::move(data));
    }
    flatbuffers::FlatBufferBuilder b(64);
    b.Finish(wire::CreateHostAck(b, id, 0));
    if (!WriteFrame(client_.connection(), std::span(b.GetBufferPointer(), b.GetSize())).ok()) return;
  }
}

std::vector<std::pair<uint64_t, std::vector<uint8_t>>> RawHostChannel::Deliveries() {
  std::lock_guard lock(mu_);
  return deliveries_;
}

std::string LeaseToken(const std::string& key, const std::string& lease, const std::string& node, uint16_t port,
                       uint64_t mem_bytes, int gpu) {
  LeaseClaims claims;
  claims.lease_id = lease;
  claims.expires_unix = NowUnixSeconds() + 3600;
  claims.grants.push_back(LeaseGrant{node, port, gpu, mem_bytes});
  return SignLeaseToken(claims, key);
}

}  // namespace rcuda::itest
