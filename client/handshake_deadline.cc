#include "client/handshake_deadline.h"

#include "common/env.h"

namespace rcuda::client {

std::chrono::milliseconds HandshakeTimeout() {
  return std::chrono::milliseconds(std::max<int64_t>(1, GetEnvInt("RCUDA_HANDSHAKE_TIMEOUT_MS", 60000)));
}

HandshakeDeadline::HandshakeDeadline(Connection* connection, std::chrono::milliseconds timeout) {
  timer_ = std::thread([this, connection, timeout] {
    std::unique_lock lock(mu_);
    if (cv_.wait_for(lock, timeout, [&] { return done_; })) return;
    expired_ = true;
    connection->Shutdown();
  });
}

HandshakeDeadline::~HandshakeDeadline() {
  {
    std::lock_guard lock(mu_);
    done_ = true;
  }
  cv_.notify_all();
  timer_.join();
}

bool HandshakeDeadline::expired() {
  std::lock_guard lock(mu_);
  return expired_;
}

}  // namespace rcuda::client
