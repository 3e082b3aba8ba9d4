#pragma once

#include <cstdint>

namespace rcuda {

// The wire protocol's version. Peers of different versions refuse each other
// in the handshake with a message that names both.
inline constexpr uint32_t kProtocolVersion = 1;

// rcuda's own release, for logs and HelloReply.
inline constexpr const char* kRcudaVersion = "0.1.0";

}  // namespace rcuda
