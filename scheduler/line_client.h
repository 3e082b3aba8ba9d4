// A blocking TCP connection that exchanges newline-terminated messages, with
// timeouts: what ssgm and rcuda-gpu-monitor use to talk to ssgmd.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace rcuda::sched {

// "host", "host:port", "[v6addr]:port", or a bare IPv6 address.
Status ParseHostPort(std::string_view text, uint16_t default_port, std::string* host, uint16_t* port);

class LineClient {
 public:
  LineClient() = default;
  ~LineClient();
  LineClient(const LineClient&) = delete;
  LineClient& operator=(const LineClient&) = delete;

  Status Connect(const std::string& host, uint16_t port, int64_t timeout_ms);
  // Sends `line` plus a newline.
  Status WriteLine(std::string_view line, int64_t timeout_ms);
  // Reads up to the next newline (not included).
  Status ReadLine(std::string* line, int64_t timeout_ms, size_t max_bytes = size_t(256) << 20);
  void Close();
  bool connected() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
  std::string buffer_;
};

}  // namespace rcuda::sched
