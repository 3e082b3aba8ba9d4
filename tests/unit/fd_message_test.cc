// protocol/fd_message.h: descriptors travel with a message's bytes; a
// receiver learns of every descriptor that came (none stays open unseen)
// and of a message cut short.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "protocol/fd_message.h"

namespace rcuda {
namespace {

struct SeqPacketPair {
  SeqPacketPair() { REQUIRE(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) == 0); }
  ~SeqPacketPair() {
    close(fds[0]);
    close(fds[1]);
  }
  int fds[2] = {-1, -1};
};

ino_t InodeOf(int fd) {
  struct stat st;
  REQUIRE(fstat(fd, &st) == 0);
  return st.st_ino;
}

}  // namespace

TEST_CASE("descriptors arrive with the bytes they were sent with", "[fd_message]") {
  SeqPacketPair p;
  int pipe_fds[2];
  REQUIRE(pipe(pipe_fds) == 0);
  const uint64_t sent = 0x1122334455667788ull;
  REQUIRE(SendWithFds(p.fds[0], &sent, sizeof sent, pipe_fds) == static_cast<ssize_t>(sizeof sent));
  uint64_t got = 0;
  ReceivedMessage r = ReceiveWithFds(p.fds[1], &got, sizeof got);
  REQUIRE(r.bytes == static_cast<ssize_t>(sizeof got));
  CHECK(got == sent);
  CHECK_FALSE(r.truncated);
  REQUIRE(r.fds.size() == 2);
  CHECK(InodeOf(r.fds[0]) == InodeOf(pipe_fds[0]));
  CHECK(InodeOf(r.fds[1]) == InodeOf(pipe_fds[1]));
  CHECK((fcntl(r.fds[0], F_GETFD) & FD_CLOEXEC) != 0);
  r.CloseFds();
  CHECK(r.fds.empty());
  close(pipe_fds[0]);
  close(pipe_fds[1]);
}

TEST_CASE("a message without descriptors, and too many to send", "[fd_message]") {
  SeqPacketPair p;
  const char byte = 'x';
  REQUIRE(SendWithFds(p.fds[0], &byte, 1, {}) == 1);
  char got = 0;
  ReceivedMessage r = ReceiveWithFds(p.fds[1], &got, 1);
  CHECK(r.bytes == 1);
  CHECK(got == 'x');
  CHECK(r.fds.empty());
  const int five[] = {0, 0, 0, 0, 0};
  errno = 0;
  CHECK(SendWithFds(p.fds[0], &byte, 1, five) == -1);
  CHECK(errno == EINVAL);
}

TEST_CASE("a message longer than the receiver's buffer is reported cut short", "[fd_message]") {
  SeqPacketPair p;
  const uint8_t bytes[16] = {};
  const int fds[] = {p.fds[0]};
  REQUIRE(SendWithFds(p.fds[0], bytes, sizeof bytes, fds) == static_cast<ssize_t>(sizeof bytes));
  uint8_t small[4];
  ReceivedMessage r = ReceiveWithFds(p.fds[1], small, sizeof small);
  CHECK(r.bytes == static_cast<ssize_t>(sizeof small));
  CHECK(r.truncated);
  CHECK(r.fds.size() == 1);  // still reported, so that the caller closes it
  r.CloseFds();
}

TEST_CASE("nothing waiting: a non-blocking receive says so", "[fd_message]") {
  SeqPacketPair p;
  uint8_t buffer[4];
  ReceivedMessage r = ReceiveWithFds(p.fds[1], buffer, sizeof buffer, MSG_DONTWAIT);
  CHECK(r.bytes == -1);
  CHECK((errno == EAGAIN || errno == EWOULDBLOCK));
  CHECK(r.fds.empty());
}

}  // namespace rcuda
