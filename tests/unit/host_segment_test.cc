// Host segments (protocol/host_segment.h, server/host_segment_table.h): the
// memfd handed from client to worker is taken only with its token, sealed
// and of the size asked; a session's table caps segments in number and bytes
// and refuses every range that does not lie inside one segment.
#include <catch2/catch.hpp>

#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>

#include "common/cuda_error_codes.h"
#include "protocol/host_segment.h"
#include "server/host_segment_table.h"

namespace rcuda {
namespace {

struct SocketPair {
  SocketPair() { REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0); }
  ~SocketPair() {
    close(fds[0]);
    close(fds[1]);
  }
  int fds[2] = {-1, -1};
};

int SealedMemfd(uint64_t size, int seals) {
  int fd = memfd_create("unit-segment", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  REQUIRE(fd >= 0);
  REQUIRE(ftruncate(fd, static_cast<off_t>(size)) == 0);
  if (seals) REQUIRE(fcntl(fd, F_ADD_SEALS, seals) == 0);
  return fd;
}

}  // namespace

TEST_CASE("a host segment travels with its token and maps the client's pages", "[server_host_segments]") {
  SocketPair pair;
  int fd = -1;
  void* client = nullptr;
  REQUIRE(CreateHostSegment(8192, &fd, &client).ok());
  // Another request's fd comes first: dropped, never handed out.
  int other = SealedMemfd(4096, F_SEAL_SHRINK | F_SEAL_GROW);
  REQUIRE(SendHostSegment(pair.fds[0], other, 7).ok());
  close(other);
  REQUIRE(SendHostSegment(pair.fds[0], fd, 8).ok());
  int received = -1;
  REQUIRE(ReceiveHostSegment(pair.fds[1], 8, &received).ok());
  void* worker = nullptr;
  REQUIRE(MapHostSegment(received, 8192, &worker).ok());
  close(received);
  std::memcpy(client, "pinned", 7);
  CHECK(std::memcmp(worker, "pinned", 7) == 0);  // the same pages
  munmap(worker, 8192);
  munmap(client, 8192);
  close(fd);
  // Nothing more to take: refused, without waiting.
  CHECK(ReceiveHostSegment(pair.fds[1], 9, &received).code() == Status::Code::kInvalidArgument);
}

TEST_CASE("a host segment that could be resized, or of another size, is not mapped", "[server_host_segments]") {
  void* p = nullptr;
  int unsealed = SealedMemfd(8192, 0);
  CHECK(!MapHostSegment(unsealed, 8192, &p).ok());
  close(unsealed);
  int shrinkable = SealedMemfd(8192, F_SEAL_GROW);
  CHECK(!MapHostSegment(shrinkable, 8192, &p).ok());
  close(shrinkable);
  int sealed = SealedMemfd(8192, F_SEAL_SHRINK | F_SEAL_GROW);
  CHECK(!MapHostSegment(sealed, 4096, &p).ok());
  CHECK(!MapHostSegment(sealed, 16384, &p).ok());
  REQUIRE(MapHostSegment(sealed, 8192, &p).ok());
  munmap(p, 8192);
  close(sealed);
  int fd = -1;
  CHECK(!CreateHostSegment(0, &fd, &p).ok());
  CHECK(!CreateHostSegment(100, &fd, &p).ok());  // not whole pages
}

TEST_CASE("a session's host segments are capped and every range is checked", "[server_host_segments]") {
  HostSegmentTable table(/*max_bytes=*/10000, /*max_count=*/2);
  char a[4096], b[4096];
  CHECK(table.CheckRoom(4096).ok());
  CHECK(table.CheckRoom(10001).ToCudaError() == kCudaErrorMemoryAllocation);
  const uint64_t first = table.Add(HostSegment{a, sizeof a});
  CHECK(table.CheckRoom(6000).ToCudaError() == kCudaErrorMemoryAllocation);  // bytes
  CHECK(table.CheckRoom(UINT64_MAX).ToCudaError() == kCudaErrorMemoryAllocation);
  const uint64_t second = table.Add(HostSegment{b, sizeof b});
  CHECK(first != second);
  CHECK(table.CheckRoom(1).ToCudaError() == kCudaErrorMemoryAllocation);  // count

  void* host = nullptr;
  REQUIRE(table.Resolve(second, 100, 3996, &host).ok());
  CHECK(host == b + 100);
  CHECK(table.Resolve(second, 4096, 0, &host).ok());
  CHECK(table.Resolve(second, 100, 3997, &host).ToCudaError() == kCudaErrorInvalidValue);  // straddles the end
  CHECK(table.Resolve(second, 4097, 0, &host).ToCudaError() == kCudaErrorInvalidValue);
  CHECK(table.Resolve(second, UINT64_MAX, 2, &host).ToCudaError() == kCudaErrorInvalidValue);
  CHECK(table.Resolve(second, 1, UINT64_MAX, &host).ToCudaError() == kCudaErrorInvalidValue);
  CHECK(table.Resolve(second + first + 10, 0, 1, &host).ToCudaError() == kCudaErrorInvalidValue);

  HostSegment out;
  CHECK(table.Remove(first, &out));
  CHECK(out.host == a);
  CHECK(!table.Remove(first, &out));
  CHECK(table.CheckRoom(4096).ok());
  CHECK(table.TakeAll().size() == 1);
  CHECK(table.count() == 0);
  CHECK(table.bytes() == 0);
}

}  // namespace rcuda
