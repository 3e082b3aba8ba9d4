// Handing a client's connection from the daemon to a worker process over a
// Unix socket (SCM_RIGHTS): the transport's kind and file descriptors
// (Connection::Kind, HandoffHandles), the connection's first message, and
// the session key (empty for a host channel attachment).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"

namespace rcuda {

struct Handoff {
  std::string kind;        // "tcp" | "shm"
  std::vector<int> fds;    // as the transport's Adopt takes them
  std::string key;
  std::vector<uint8_t> hello;
};

Status SendSession(int control_fd, const Handoff& handoff);
// Blocks until the daemon hands over a connection. A closed control socket
// (the daemon decided it no longer needs this warm worker) is reported as an
// error with *closed set.
Status ReceiveSession(int control_fd, Handoff* handoff, bool* closed);

}  // namespace rcuda
