// Handing a client's connection from the daemon to a worker process over a
// Unix socket (SCM_RIGHTS): the transport's kind and file descriptors
// (Connection::Kind, HandoffHandles), the connection's first message, and
// the session key (empty for a host channel attachment).
#pragma once

#include <chrono>
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
  // The session's lease's shared memory account (server/lease_memory.h) and
  // its slot there; -1 when the session holds no lease.
  int lease_fd = -1;
  int lease_slot = -1;
};

// Gives up after `timeout` when the worker does not take the handoff (its
// control socket's queue is full: a worker that stopped receiving must not
// hold up the daemon).
Status SendSession(int control_fd, const Handoff& handoff,
                   std::chrono::milliseconds timeout = std::chrono::milliseconds(2000));
// Blocks until the daemon hands over a connection. A closed control socket
// (the daemon decided it no longer needs this warm worker) is reported as an
// error with *closed set.
Status ReceiveSession(int control_fd, Handoff* handoff, bool* closed);

}  // namespace rcuda
