// Hostile local clients of host segments (protocol/host_segment.h): pinned
// memory a client shares with its worker over the shared-memory transport.
// A memfd the client could resize, one of another size than the request
// says, copies outside a segment or of a segment the session does not hold,
// and more segments or bytes than the session's cap are each refused with a
// CUDA error; the session goes on working, and the daemon with it. A raw
// client speaks the protocol by hand (the generic Call, CallOp numbers).
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>

#include "common/cuda_error_codes.h"
#include "hostile_support.h"
#include "protocol/call_ops.h"
#include "protocol/host_segment.h"

namespace rcuda::itest {
namespace {

constexpr int kInvalidValue = kCudaErrorInvalidValue;
constexpr int kMemoryAllocation = kCudaErrorMemoryAllocation;

// Sends `fd` with `token` and asks the worker to map it as `size` bytes;
// the reply's error, and the segment id on success.
int MapSegment(RawClient& c, const TestServer& server, int fd, uint64_t token, int64_t size, int64_t* segment) {
  REQUIRE(SendHostSegment(c.connection().NativeHandle(), fd, token).ok());
  const wire::Reply* r = RequireGenericCall(c, server, static_cast<uint32_t>(CallOp::kHostSegmentMap),
                                            {static_cast<int64_t>(token), size});
  if (r->error() == 0) {
    const auto* body = r->body_as_CallReply();
    REQUIRE(body);
    REQUIRE(body->values());
    REQUIRE(body->values()->size() == 1);
    *segment = body->values()->Get(0);
  }
  return r->error();
}

int SegmentCopySync(RawClient& c, const TestServer& server, uint64_t device, int64_t segment, int64_t offset,
                    int64_t size, bool to_device) {
  const wire::Reply* r = RequireGenericCall(c, server, static_cast<uint32_t>(CallOp::kSegmentCopySync),
                                            {static_cast<int64_t>(device), segment, offset, size, to_device ? 1 : 0, 0});
  return r->error();
}

uint64_t Allocate(RawClient& c, const TestServer& server, uint64_t bytes) {
  const wire::Reply* r = RequireCall(c, server, wire::Request::MemAlloc, [&](flatbuffers::FlatBufferBuilder& b) {
    return wire::CreateMemAlloc(b, bytes).Union();
  });
  REQUIRE(r->error() == 0);
  REQUIRE(r->body_as_MemAllocReply());
  return r->body_as_MemAllocReply()->ptr();
}

// A memfd of `size` bytes, with `seals`.
int Memfd(uint64_t size, int seals) {
  int fd = memfd_create("hostile-pinned", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  REQUIRE(fd >= 0);
  REQUIRE(ftruncate(fd, static_cast<off_t>(size)) == 0);
  if (seals) REQUIRE(fcntl(fd, F_ADD_SEALS, seals) == 0);
  return fd;
}

}  // namespace

TEST_CASE("host segments: unsealed, missized, out of bounds and over the cap are refused", "[hostile_pinned]") {
  constexpr uint64_t kCap = 2 << 20;  // bytes of segments one session may hold
  constexpr uint64_t kPage = 4096;
  TestServer::Options options;
  options.extra_args = {"--session-pinned-bytes", std::to_string(kCap)};
  TestServer server(options);
  INFO("server log:\n" << server.Log());
  REQUIRE(server.started());
  RawClient c;
  RequireOpen(c, server, Via::kShm);
  const uint64_t device = Allocate(c, server, 2 * kPage);
  uint64_t token = 0;
  int64_t segment = 0;

  // A memfd the client could shrink under the worker's mapping: refused.
  int fd = Memfd(2 * kPage, 0);
  CHECK(MapSegment(c, server, fd, ++token, 2 * kPage, &segment) == kInvalidValue);
  close(fd);
  // Sealed, but not of the size the request names.
  fd = Memfd(2 * kPage, F_SEAL_SHRINK | F_SEAL_GROW);
  CHECK(MapSegment(c, server, fd, ++token, 4 * kPage, &segment) == kInvalidValue);
  close(fd);
  // A request whose fd never came (another token's was sent).
  fd = Memfd(2 * kPage, F_SEAL_SHRINK | F_SEAL_GROW);
  REQUIRE(SendHostSegment(c.connection().NativeHandle(), fd, 999999).ok());
  const wire::Reply* r = RequireGenericCall(c, server, static_cast<uint32_t>(CallOp::kHostSegmentMap),
                                            {static_cast<int64_t>(++token), static_cast<int64_t>(2 * kPage)});
  CHECK(r->error() == kInvalidValue);
  close(fd);

  // A good one: copies through it move the client's bytes.
  uint64_t host_size = 2 * kPage;
  void* host = nullptr;
  REQUIRE(CreateHostSegment(host_size, &fd, &host).ok());
  REQUIRE(MapSegment(c, server, fd, ++token, static_cast<int64_t>(host_size), &segment) == 0);
  close(fd);
  auto* bytes = static_cast<uint8_t*>(host);
  for (uint64_t i = 0; i < host_size; ++i) bytes[i] = static_cast<uint8_t>(i * 7 + 3);
  CHECK(SegmentCopySync(c, server, device, segment, 0, static_cast<int64_t>(host_size), true) == 0);
  std::memset(bytes, 0, host_size);
  CHECK(SegmentCopySync(c, server, device + 100, segment, 5, 1000, false) == 0);
  CHECK(bytes[4] == 0);
  CHECK(bytes[5] == static_cast<uint8_t>(100 * 7 + 3));
  CHECK(bytes[1004] == static_cast<uint8_t>(1099 * 7 + 3));
  CHECK(bytes[1005] == 0);

  // Outside the segment (straddling its end, an offset past it, offsets and
  // sizes that overflow), or a segment the session does not hold.
  CHECK(SegmentCopySync(c, server, device, segment, static_cast<int64_t>(kPage), static_cast<int64_t>(kPage) + 1,
                        true) == kInvalidValue);
  CHECK(SegmentCopySync(c, server, device, segment, static_cast<int64_t>(host_size) + 1, 1, false) == kInvalidValue);
  CHECK(SegmentCopySync(c, server, device, segment, -1, 16, true) == kInvalidValue);
  CHECK(SegmentCopySync(c, server, device, segment, INT64_MAX, 2, false) == kInvalidValue);
  CHECK(SegmentCopySync(c, server, device, segment + 1000, 0, 16, true) == kInvalidValue);
  CHECK(SegmentCopySync(c, server, device, segment, 0, -1, true) == kInvalidValue);
  // The asynchronous copy's refusal comes with the next reply.
  REQUIRE(c.Send(wire::Request::Call, [&](flatbuffers::FlatBufferBuilder& b) {
             std::vector<int64_t> args{static_cast<int64_t>(device), segment, static_cast<int64_t>(host_size), 1, 1, 0};
             return wire::CreateCallDirect(b, static_cast<uint32_t>(CallOp::kSegmentCopy), &args).Union();
           }).ok());
  r = RequireSync(c, server);
  CHECK((r->error() == kInvalidValue || r->async_error() == kInvalidValue));

  // The cap: bytes first, then the number of segments.
  fd = Memfd(kCap, F_SEAL_SHRINK | F_SEAL_GROW);
  int64_t refused = 0;
  CHECK(MapSegment(c, server, fd, ++token, static_cast<int64_t>(kCap), &refused) == kMemoryAllocation);
  close(fd);
  std::vector<int64_t> small;
  int error = 0;
  for (int i = 0; i < 300 && error == 0; ++i) {  // the cap is 256 segments, one held already
    fd = Memfd(kPage, F_SEAL_SHRINK | F_SEAL_GROW);
    int64_t id = 0;
    error = MapSegment(c, server, fd, ++token, static_cast<int64_t>(kPage), &id);
    close(fd);
    if (error == 0) small.push_back(id);
  }
  CHECK(error == kMemoryAllocation);
  CHECK(small.size() == 255);
  // Unmapping gives room back.
  REQUIRE(!small.empty());
  r = RequireGenericCall(c, server, static_cast<uint32_t>(CallOp::kHostSegmentUnmap), {small.back()});
  CHECK(r->error() == 0);
  fd = Memfd(kPage, F_SEAL_SHRINK | F_SEAL_GROW);
  int64_t again = 0;
  CHECK(MapSegment(c, server, fd, ++token, static_cast<int64_t>(kPage), &again) == 0);
  close(fd);
  r = RequireGenericCall(c, server, static_cast<uint32_t>(CallOp::kHostSegmentUnmap), {small.back()});
  CHECK(r->error() == kInvalidValue);  // already gone

  // Through it all the session works, and so does the daemon.
  RequireSessionWorks(c, server);
  RequireFreshSessionsWork(server);
  munmap(host, host_size);

  // Over TCP there is no socket to pass a memfd on: refused as unsupported.
  RawClient tcp;
  RequireOpen(tcp, server, Via::kTcp);
  r = RequireGenericCall(tcp, server, static_cast<uint32_t>(CallOp::kHostSegmentMap), {1, 4096});
  CHECK(r->error() == kCudaErrorNotSupported);
  RequireSessionWorks(tcp, server);
}

}  // namespace rcuda::itest
