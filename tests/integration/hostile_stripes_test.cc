// Striped TCP (protocol/tcp_stripes.h) against a hostile client: data
// streams with a wrong key, a replayed index, more than the server allows
// or after the session's first striped transfer are refused; a chunk out of
// place ends only its own session; a client that vanishes halfway through a
// striped copy ends its session (its worker exits, freeing what it held).
// Each time the daemon keeps serving and a bystander session keeps working.
#include <cstring>

#include "hostile_support.h"
#include "protocol/tcp_stripes.h"
#include "protocol/tcp_transport.h"
#include "protocol/version.h"

namespace rcuda::itest {
namespace {

constexpr int kServerStreams = 3;  // --tcp-streams of the server below

// A session over TCP: its key and how many data streams it may attach.
struct StripedSession {
  RawClient control;
  std::string key;
  uint32_t streams = 0;
};

void OpenSession(const TestServer& server, StripedSession* s) {
  server.WaitForWarmWorker();
  REQUIRE(s->control.Connect(server.port(), Via::kTcp).ok());
  const wire::Reply* reply = nullptr;
  REQUIRE(s->control.Hello(HelloFields{}, &reply).ok());
  const wire::HelloReply* hr = reply->body_as_HelloReply();
  REQUIRE(hr);
  REQUIRE(hr->accepted());
  REQUIRE(hr->session_key());
  s->key = hr->session_key()->str();
  s->streams = hr->tcp_streams();
}

// Opens data stream `index` with `key`; *accepted says whether the server
// took it (a refusal is answered, then the connection closes).
std::unique_ptr<Connection> AttachStream(const TestServer& server, const std::string& key, uint32_t index,
                                         bool* accepted) {
  std::unique_ptr<Connection> c;
  REQUIRE(TcpConnect("127.0.0.1", server.port(), TcpOptions{}, &c).ok());
  flatbuffers::FlatBufferBuilder b(256);
  auto k = b.CreateString(key);
  auto transport = b.CreateString("tcp");
  wire::HelloBuilder hello(b);
  hello.add_protocol_version(kProtocolVersion);
  hello.add_attach_key(k);
  hello.add_transport(transport);
  hello.add_stripe(index);
  auto body = hello.Finish();
  wire::MessageBuilder m(b);
  m.add_id(1);
  m.add_request_type(wire::Request::Hello);
  m.add_request(body.Union());
  b.Finish(m.Finish());
  REQUIRE(WriteFrame(*c, std::span(b.GetBufferPointer(), b.GetSize())).ok());
  FrameHeader header;
  std::vector<uint8_t> frame;
  *accepted = false;
  if (!ReadFrame(*c, &header, &frame).ok()) return c;  // closed without an answer: refused too
  const wire::Reply* reply = VerifiedReply(frame);
  REQUIRE(reply);
  REQUIRE(reply->body_as_HelloReply());
  *accepted = reply->body_as_HelloReply()->accepted();
  return c;
}

uint64_t Alloc(RawClient& c, const TestServer& server, uint64_t bytes) {
  const wire::Reply* r = RequireCall(c, server, wire::Request::MemAlloc, [&](flatbuffers::FlatBufferBuilder& b) {
    return wire::CreateMemAlloc(b, bytes).Union();
  });
  REQUIRE(r->error() == 0);
  REQUIRE(r->body_as_MemAllocReply());
  return r->body_as_MemAllocReply()->ptr();
}

// Writes the header and message of a striped MemcpyHtoD (its bulk is the
// caller's to send on the streams).
void StartStripedCopy(RawClient& c, uint64_t ptr, uint64_t bytes) {
  flatbuffers::FlatBufferBuilder b(256);
  auto body = wire::CreateMemcpyHtoD(b, ptr, bytes, 0);
  wire::MessageBuilder m(b);
  m.add_id(c.next_id());
  m.add_request_type(wire::Request::MemcpyHtoD);
  m.add_request(body.Union());
  b.Finish(m.Finish());
  c.set_next_id(c.next_id() + 1);
  REQUIRE(WriteStripedFrameStart(c.connection(), std::span(b.GetBufferPointer(), b.GetSize()), bytes).ok());
}

std::vector<uint8_t> Pattern(size_t bytes, int seed) {
  std::vector<uint8_t> p(bytes);
  for (size_t i = 0; i < bytes; ++i) p[i] = static_cast<uint8_t>(i * 7 + seed + (i >> 12));
  return p;
}

// Reads `bytes` at `ptr` back in pieces under the striping threshold (the
// replies stay on the control connection, which RawClient reads).
std::vector<uint8_t> ReadBack(RawClient& c, const TestServer& server, uint64_t ptr, uint64_t bytes) {
  std::vector<uint8_t> all;
  const uint64_t piece = kStripeMinBulkBytes / 2;
  for (uint64_t done = 0; done < bytes; done += piece) {
    uint64_t n = std::min(piece, bytes - done);
    std::vector<uint8_t> back;
    const wire::Reply* r = RequireCall(
        c, server, wire::Request::MemcpyDtoH,
        [&](flatbuffers::FlatBufferBuilder& b) { return wire::CreateMemcpyDtoH(b, ptr + done, n, 0).Union(); }, {},
        &back);
    REQUIRE(r->error() == 0);
    REQUIRE(r->async_error() == 0);
    all.insert(all.end(), back.begin(), back.end());
  }
  return all;
}

}  // namespace

TEST_CASE("data streams: wrong key, replay, too many, bad chunks, a client gone mid-copy", "[hostile_tcp_streams]") {
  TestServer::Options options;
  options.extra_args = {"--tcp-streams", std::to_string(kServerStreams)};
  TestServer server(options);
  INFO("server log:\n" << server.Log());
  REQUIRE(server.started());
  RawClient bystander;
  RequireOpen(bystander, server, Via::kTcp);
  RequireSessionWorks(bystander, server);

  StripedSession s;
  OpenSession(server, &s);
  REQUIRE(s.streams == static_cast<uint32_t>(kServerStreams));
  bool accepted = true;
  AttachStream(server, std::string(s.key.size(), 'x'), 1, &accepted);
  CHECK_FALSE(accepted);  // wrong key
  AttachStream(server, s.key, kServerStreams + 1, &accepted);
  CHECK_FALSE(accepted);  // beyond the server's cap
  std::vector<std::unique_ptr<Connection>> streams;
  streams.push_back(AttachStream(server, s.key, 1, &accepted));
  REQUIRE(accepted);
  AttachStream(server, s.key, 1, &accepted);
  CHECK_FALSE(accepted);  // the same index again (a replay)
  streams.push_back(AttachStream(server, s.key, 2, &accepted));
  REQUIRE(accepted);
  REQUIRE(server.Alive());

  // A striped copy over the two streams arrives whole, in order (an odd
  // size: the last chunk is short).
  const uint64_t bytes = 3 * kStripeChunkBytes + 12345;
  const uint64_t ptr = Alloc(s.control, server, bytes);
  const std::vector<uint8_t> pattern = Pattern(bytes, 1);
  StartStripedCopy(s.control, ptr, bytes);
  TcpStripes stripes(std::move(streams));
  ConstBuffer all{pattern.data(), pattern.size()};
  REQUIRE(stripes.SendAll(std::span(&all, 1)).ok());
  CHECK(ReadBack(s.control, server, ptr, bytes) == pattern);
  // After the session's first striped transfer no stream attaches.
  AttachStream(server, s.key, 3, &accepted);
  CHECK_FALSE(accepted);

  // A client gone halfway through a striped copy: its worker ends.
  {
    StripedSession victim;
    OpenSession(server, &victim);
    bool ok1 = false, ok2 = false;
    std::vector<std::unique_ptr<Connection>> vs;
    vs.push_back(AttachStream(server, victim.key, 1, &ok1));
    vs.push_back(AttachStream(server, victim.key, 2, &ok2));
    REQUIRE((ok1 && ok2));
    const uint64_t vptr = Alloc(victim.control, server, 8 << 20);
    const size_t before = server.Sessions().size();
    StartStripedCopy(victim.control, vptr, 8 << 20);
    std::vector<uint8_t> half(4 << 20, 5);
    TcpStripes vstripes(std::move(vs));
    REQUIRE(vstripes.BeginSend(8 << 20).ok());
    REQUIRE(vstripes.Send(half.data(), half.size()).ok());
    vstripes.Shutdown();
    victim.control.connection().Shutdown();
    CHECK(WaitUntil([&] { return server.Sessions().size() == before - 1; }, milliseconds(15000)));
    REQUIRE(server.Alive());
  }

  // A chunk out of place (wrong offset, wrong size, a replayed transfer,
  // no chunk magic) ends its session only.
  const StripeChunkHeader bad_headers[] = {
      {kStripeChunkMagic, static_cast<uint32_t>(kStripeChunkBytes), 1, kStripeChunkBytes},
      {kStripeChunkMagic, static_cast<uint32_t>(kStripeChunkBytes) - 1, 1, 0},
      {kStripeChunkMagic, static_cast<uint32_t>(kStripeChunkBytes), 0, 0},
      {0x20202020, static_cast<uint32_t>(kStripeChunkBytes), 1, 0},
  };
  for (const StripeChunkHeader& bad : bad_headers) {
    INFO("chunk header: offset " << bad.offset << ", " << bad.bytes << " bytes, transfer " << bad.transfer);
    StripedSession g;
    OpenSession(server, &g);
    bool ok1 = false, ok2 = false;
    auto first = AttachStream(server, g.key, 1, &ok1);
    auto second = AttachStream(server, g.key, 2, &ok2);
    REQUIRE((ok1 && ok2));
    const uint64_t gptr = Alloc(g.control, server, 2 * kStripeChunkBytes);
    StartStripedCopy(g.control, gptr, 2 * kStripeChunkBytes);
    std::vector<uint8_t> chunk(sizeof bad + kStripeChunkBytes, 0);
    std::memcpy(chunk.data(), &bad, sizeof bad);
    ConstBuffer part{chunk.data(), chunk.size()};
    (void)first->WriteAll(std::span(&part, 1));  // may fail once the worker closed its end
    CHECK(g.control.WaitClosed(milliseconds(15000)));
    REQUIRE(server.Alive());
  }
  CHECK(server.WaitForLogLine({"striped chunk out of place"}, milliseconds(5000)));

  RequireSessionWorks(bystander, server);
  RequireFreshSessionsWork(server);
}

}  // namespace rcuda::itest
