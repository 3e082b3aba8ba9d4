// A GPU endpoint as rCUDA writes it: host[@port][:gpu], e.g. "10.0.0.7",
// "gpu3@9000:1". IPv6 hosts go in brackets: "[::1]@8308:0".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace rcuda {

inline constexpr uint16_t kDefaultServerPort = 8308;

struct Endpoint {
  std::string host = "127.0.0.1";
  uint16_t port = kDefaultServerPort;
  int gpu = 0;

  std::string ToString() const;  // host@port:gpu
};

Status ParseEndpoint(std::string_view text, Endpoint* endpoint);

}  // namespace rcuda
