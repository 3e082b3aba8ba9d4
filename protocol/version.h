#pragma once

#include <cstdint>

namespace rcuda {

// The wire protocol's version. Peers of different versions refuse each other
// in the handshake with a message that names both.
//   1  the first release
//   2  LibraryCall (the math libraries' forwarding): a server of version 1
//      ends the session of a client that sends one ("unknown request
//      type"), so the two refuse each other at Hello instead
//   3  CUDA arrays, texture and surface objects (new request tables a
//      version-2 server would end the session for), and Reply's
//      device_output (device printf)
//   4  kernel nodes' launch attributes in GraphNode (cooperative, cluster,
//      priority): a version-3 server would ignore them and run the nodes
//      without, silently
inline constexpr uint32_t kProtocolVersion = 4;

// rcuda's own release, for logs and HelloReply.
inline constexpr const char* kRcudaVersion = "0.1.0";

}  // namespace rcuda
