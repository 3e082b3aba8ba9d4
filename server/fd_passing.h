// Handing a client's connection from the daemon to a worker process over a
// Unix socket (SCM_RIGHTS), together with the connection's first message and
// the session key (empty for a host channel attachment).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"

namespace rcuda {

Status SendSession(int control_fd, int client_fd, const std::string& key, std::span<const uint8_t> hello);
// Blocks until the daemon hands over a session. A closed control socket (the
// daemon decided it no longer needs this warm worker) is reported as an error
// with *closed set.
Status ReceiveSession(int control_fd, int* client_fd, std::string* key, std::vector<uint8_t>* hello, bool* closed);

}  // namespace rcuda
