// The Hello that attaches another connection to a running session (the host
// channel, a TCP data stream): its session key instead of a token, sent and
// answered within the handshake deadline. One place, so that every
// attachment is bounded in time and checks its answer the same way.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "protocol/rcuda_generated.h"
#include "protocol/transport.h"

namespace rcuda::client {

struct AttachRequest {
  std::string session_key;
  std::string transport;           // the connection's kind, as the server must see it
  int gpu = 0;
  std::optional<uint32_t> stripe;  // a TCP data stream's index
};

struct AttachAnswer {
  std::vector<uint8_t> frame;                 // holds the reply's bytes
  const wire::HelloReply* reply = nullptr;    // null when the answer has none
  bool expired = false;                       // the handshake's time ran out
};

// Sends the attachment's Hello on `connection` and reads the answer. A
// transport error (or a reply with bulk data) is the returned status; an
// answer without a HelloReply leaves answer->reply null.
Status SendAttachHello(Connection& connection, const AttachRequest& request, AttachAnswer* answer);

}  // namespace rcuda::client
