#include "hostile_support.h"

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
  CHECK(now <= before + slack);
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

}  // namespace rcuda::itest
