// Handing a client's connection from the daemon to a worker process over a
// Unix socket (SCM_RIGHTS), together with the session's first message.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/status.h"

namespace rcuda {

Status SendSession(int control_fd, int client_fd, std::span<const uint8_t> hello);
// Blocks until the daemon hands over a session. A closed control socket (the
// daemon decided it no longer needs this warm worker) is reported as an error
// with *closed set.
Status ReceiveSession(int control_fd, int* client_fd, std::vector<uint8_t>* hello, bool* closed);

}  // namespace rcuda
