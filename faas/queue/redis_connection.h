// RedisConnection: one hiredis connection that comes back by itself. A call
// made while Redis is down fails with Status::Unavailable; the next call
// connects again. A connection that breaks during a command (Redis restarted
// since the last call) is replaced and the command sent once more: a command
// may then run twice, which the queue's at-least-once contract allows.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"

struct redisContext;
struct redisReply;

namespace rcuda::faas {

struct RedisAddress {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string password;  // AUTH after connecting, when set
  int connect_timeout_ms = 2000;
  int command_timeout_ms = 5000;
};

// "host:port", "host" (port 6379) or "[v6]:port". The password comes from
// RCUDA_REDIS_PASSWORD when set.
Status ParseRedisAddress(const std::string& text, RedisAddress* address);

struct RedisReplyDeleter {
  void operator()(redisReply* reply) const;
};
using RedisReplyPtr = std::unique_ptr<redisReply, RedisReplyDeleter>;

class RedisConnection {
 public:
  // on_connect runs after every (re)connection, sending its commands on the
  // new connection through `send` (e.g. to create a consumer group that a
  // Redis without persistence lost).
  using Send = std::function<Status(const std::vector<std::string>& argv, RedisReplyPtr* reply)>;
  using OnConnect = std::function<Status(const Send& send)>;
  RedisConnection(RedisAddress address, OnConnect on_connect);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Runs a command. An error reply becomes a Status (LOADING and BUSY ones,
  // which pass, as Unavailable). extra_timeout_ms lengthens the socket
  // timeout for this call (a blocking read). Thread-safe (serialized).
  Status Command(const std::vector<std::string>& argv, RedisReplyPtr* reply, int extra_timeout_ms = 0);

  const RedisAddress& address() const { return address_; }

 private:
  Status ConnectLocked();
  Status SendLocked(const std::vector<std::string>& argv, RedisReplyPtr* reply, int timeout_ms, bool* broken);
  void DropLocked();

  RedisAddress address_;
  OnConnect on_connect_;
  std::mutex mu_;
  redisContext* context_ = nullptr;  // guarded by mu_
};

}  // namespace rcuda::faas
