#pragma once

#include <cstdint>

namespace rcuda {

// The wire protocol's version. Peers of different versions refuse each other
// in the handshake with a message that names both.
//   1  the first release
//   2  LibraryCall (the math libraries' forwarding): a server of version 1
//      ends the session of a client that sends one ("unknown request
//      type"), so the two refuse each other at Hello instead
inline constexpr uint32_t kProtocolVersion = 2;

// rcuda's own release, for logs and HelloReply.
inline constexpr const char* kRcudaVersion = "0.1.0";

}  // namespace rcuda
