// A bound on a handshake: shuts the connection down when the server has not
// answered the Hello within the time, so that a server that accepts and then
// says nothing (a hung daemon, another service on the port, a hostile peer)
// fails the program's first CUDA call instead of hanging it.
// RCUDA_HANDSHAKE_TIMEOUT_MS sets the time (default 60000: a server may have
// to start a worker and create its CUDA context first).
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "protocol/transport.h"

namespace rcuda::client {

std::chrono::milliseconds HandshakeTimeout();

class HandshakeDeadline {
 public:
  HandshakeDeadline(Connection* connection, std::chrono::milliseconds timeout);
  // Cancels the deadline if it has not passed.
  ~HandshakeDeadline();
  HandshakeDeadline(const HandshakeDeadline&) = delete;
  HandshakeDeadline& operator=(const HandshakeDeadline&) = delete;

  // Whether the time ran out (and the connection was shut down).
  bool expired();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  bool expired_ = false;
  std::thread timer_;
};

}  // namespace rcuda::client
