// The one reply a refused connection gets: a HelloReply that says why, with
// cudaErrorDevicesUnavailable, written by the daemon (admission, a bad
// token) and by a TLS worker (a verdict after the handshake) alike.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "protocol/transport.h"

namespace rcuda {

Status WriteHelloRefusal(Connection& connection, uint64_t id, const std::string& why);

}  // namespace rcuda
