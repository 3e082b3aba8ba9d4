// One message of a Unix socket with file descriptors attached (SCM_RIGHTS):
// how the shared-memory transport hands its memfd over, the client its host
// segments, and the daemon a connection to its worker. One place builds
// and parses the control message, so each caller checks only what it
// expects (how many descriptors, how many bytes).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <span>
#include <vector>

namespace rcuda {

// The most descriptors one message carries or is accepted with.
inline constexpr size_t kMaxMessageFds = 4;

// sendmsg() of `data` with `fds` attached (none when empty; at most
// kMaxMessageFds), retried on EINTR; MSG_NOSIGNAL is added to `flags`.
// Returns what sendmsg returned (-1 with errno set on failure; -1 and
// EINVAL for too many descriptors).
ssize_t SendWithFds(int socket_fd, const void* data, size_t size, std::span<const int> fds, int flags = 0);

struct ReceivedMessage {
  ssize_t bytes = -1;     // what recvmsg returned (-1: errno tells)
  std::vector<int> fds;   // every descriptor that came (close-on-exec)
  bool truncated = false; // data or descriptors did not fit (MSG_TRUNC, MSG_CTRUNC)
  // Closes the descriptors not taken (a refused message's).
  void CloseFds();
};

// recvmsg() into `data` (at most `size` bytes), retried on EINTR;
// MSG_CMSG_CLOEXEC is added to `flags`. Descriptors beyond
// kMaxMessageFds are dropped by the kernel and reported as truncation.
ReceivedMessage ReceiveWithFds(int socket_fd, void* data, size_t size, int flags = 0);

}  // namespace rcuda
