// A GPU endpoint as rCUDA writes it: host[@port][:gpu], e.g. "10.0.0.7",
// "gpu3@9000:1". IPv6 hosts go in brackets: "[::1]@8308:0". An optional
// scheme names the transport: "ucx://gpu3@9000:1" (the client checks that
// the name is a transport it knows: protocol/transport_registry.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace rcuda {

inline constexpr uint16_t kDefaultServerPort = 8308;

struct Endpoint {
  // The scheme without "://" ("ucx", "tcp", "shm"), or "" for none: then
  // RCUDA_TRANSPORT chooses.
  std::string transport;
  std::string host = "127.0.0.1";
  uint16_t port = kDefaultServerPort;
  int gpu = 0;

  std::string ToString() const;  // [transport://]host@port:gpu
};

Status ParseEndpoint(std::string_view text, Endpoint* endpoint);

}  // namespace rcuda
