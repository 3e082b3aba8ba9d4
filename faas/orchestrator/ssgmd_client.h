// SsgmdClient: ssgmd's line protocol (scheduler/wire.h, docs/scheduler.md
// "Wire protocol") on an Asio event loop, for a caller that keeps many
// requests outstanding at once (blocking lease requests, renewals, releases)
// over one connection without a thread per request.
//
// Each request carries an "id" that ssgmd echoes in its reply; replies are
// matched by it (a blocking request's reply comes when it is served, after
// the replies of later requests). When the connection breaks, or a reply is
// overdue (its wait plus reply_timeout_ms), the client reconnects with
// backoff and sends every unanswered request again, signed afresh. That is
// safe because everything sent through it is idempotent at ssgmd: requests
// carry an idempotency key and the lease's secret (a repeat gets the same
// lease, or takes over the wait), release and renew may be repeated. So a
// caller sees a reply for each call, however long ssgmd is away; a
// restarting ssgmd costs time, not errors.
//
// Single-threaded: every method and callback runs on the io_context's thread.
#pragma once

#include <asio.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>

#include "scheduler/json.h"

namespace rcuda::faas {

struct SsgmdClientOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8309;
  std::string client_key;             // non-empty: sign every request (ssgmd --client-key-file)
  int64_t connect_timeout_ms = 2000;
  int64_t reply_timeout_ms = 15000;   // beyond a request's own wait
  int64_t max_backoff_ms = 1000;      // between reconnection attempts
};

class SsgmdClient {
 public:
  // The reply: an object with an integer "error" (0 granted/done, 1 bad
  // request, 2 busy; wire.h's SsgmError), "message" on errors.
  using Callback = std::function<void(const sched::Json& reply)>;

  SsgmdClient(asio::io_context& io, SsgmdClientOptions options);
  ~SsgmdClient();
  SsgmdClient(const SsgmdClient&) = delete;
  SsgmdClient& operator=(const SsgmdClient&) = delete;

  // Sends `message` (an object with "op"; "id" is set here). `wait_ms` is how
  // long ssgmd may hold the reply (a blocking request's wait; 0 otherwise).
  // The callback runs exactly once, with the reply, unless Stop() comes first.
  void Call(sched::Json message, int64_t wait_ms, Callback callback);

  // Forgets every call (no callbacks) and closes the connection.
  void Stop();

  size_t pending() const { return pending_.size(); }
  bool connected() const { return state_ == State::kConnected; }
  uint64_t connections() const { return connections_; }

 private:
  enum class State { kIdle, kConnecting, kConnected, kWaiting };
  struct Pending {
    sched::Json message;
    int64_t wait_ms = 0;
    Callback callback;
    bool sent = false;
    std::chrono::steady_clock::time_point sent_at;
  };

  void Connect();
  void OnConnected();
  void Send(uint64_t id, Pending& pending);
  void Flush();
  void Read();
  void OnLine(const std::string& line);
  void Reset(const std::string& why);
  void ArmWatchdog();

  asio::io_context& io_;
  SsgmdClientOptions options_;
  asio::ip::tcp::resolver resolver_;
  asio::ip::tcp::socket socket_;
  asio::steady_timer connect_timer_;
  asio::steady_timer watchdog_;
  asio::streambuf input_;
  std::deque<std::string> output_;
  std::string writing_;
  bool write_in_progress_ = false;
  State state_ = State::kIdle;
  uint64_t generation_ = 0;    // bumped at every reset: stale handlers see it changed
  uint64_t next_id_ = 1;
  uint64_t connections_ = 0;
  int64_t backoff_ms_ = 50;
  bool down_logged_ = false;
  bool watchdog_armed_ = false;
  bool stopped_ = false;
  std::map<uint64_t, Pending> pending_;
};

}  // namespace rcuda::faas
