#include "faas/queue/redis_connection.h"

#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include "common/env.h"

namespace rcuda::faas {

namespace {

timeval ToTimeval(int ms) {
  timeval tv;
  tv.tv_sec = ms / 1000;
  tv.tv_usec = (ms % 1000) * 1000;
  return tv;
}

}  // namespace

void RedisReplyDeleter::operator()(redisReply* reply) const { freeReplyObject(reply); }

Status ParseRedisAddress(const std::string& text, RedisAddress* address) {
  std::string host = text;
  std::string port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string::npos) return Status::InvalidValue("redis: bad address '" + text + "'");
    host = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') return Status::InvalidValue("redis: bad address '" + text + "'");
      port = text.substr(close + 2);
    }
  } else if (size_t colon = text.rfind(':'); colon != std::string::npos) {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (host.empty()) return Status::InvalidValue("redis: empty host in '" + text + "'");
  address->host = host;
  if (!port.empty()) {
    char* end = nullptr;
    long value = std::strtol(port.c_str(), &end, 10);
    if (*end != '\0' || value <= 0 || value > 65535) return Status::InvalidValue("redis: bad port in '" + text + "'");
    address->port = int(value);
  }
  if (auto password = GetEnv("RCUDA_REDIS_PASSWORD")) address->password = *password;
  return Status::Ok();
}

RedisConnection::RedisConnection(RedisAddress address, OnConnect on_connect)
    : address_(std::move(address)), on_connect_(std::move(on_connect)) {}

RedisConnection::~RedisConnection() { DropLocked(); }

void RedisConnection::DropLocked() {
  if (context_) redisFree(context_);
  context_ = nullptr;
}

Status RedisConnection::ConnectLocked() {
  std::string where = "redis " + address_.host + ":" + std::to_string(address_.port);
  redisContext* context = redisConnectWithTimeout(address_.host.c_str(), address_.port,
                                                  ToTimeval(address_.connect_timeout_ms));
  if (!context) return Status::Unavailable(where + ": cannot allocate a connection");
  if (context->err) {
    std::string error = context->errstr;
    redisFree(context);
    return Status::Unavailable(where + " unavailable: " + error);
  }
  context_ = context;
  if (!address_.password.empty()) {
    RedisReplyPtr reply;
    bool broken = false;
    Status s = SendLocked({"AUTH", address_.password}, &reply, address_.command_timeout_ms, &broken);
    if (!s.ok()) {
      DropLocked();
      return s;
    }
  }
  if (on_connect_) {
    Send send = [this](const std::vector<std::string>& argv, RedisReplyPtr* reply) {
      bool broken = false;
      if (!context_) return Status::Unavailable("redis: connection lost while setting up");
      return SendLocked(argv, reply, address_.command_timeout_ms, &broken);
    };
    Status s = on_connect_(send);
    if (!s.ok()) {
      DropLocked();
      return s;
    }
  }
  return Status::Ok();
}

Status RedisConnection::SendLocked(const std::vector<std::string>& argv, RedisReplyPtr* reply, int timeout_ms,
                                   bool* broken) {
  std::vector<const char*> args;
  std::vector<size_t> lengths;
  for (const std::string& a : argv) {
    args.push_back(a.data());
    lengths.push_back(a.size());
  }
  redisSetTimeout(context_, ToTimeval(timeout_ms));
  auto* raw = static_cast<redisReply*>(redisCommandArgv(context_, int(args.size()), args.data(), lengths.data()));
  std::string where = "redis " + address_.host + ":" + std::to_string(address_.port);
  if (!raw) {
    *broken = true;
    std::string error = context_->errstr;
    DropLocked();
    return Status::Unavailable(where + ": " + argv[0] + ": connection lost: " + error);
  }
  reply->reset(raw);
  if (raw->type == REDIS_REPLY_ERROR) {
    std::string error(raw->str, raw->len);
    if (error.rfind("LOADING", 0) == 0 || error.rfind("BUSY ", 0) == 0 || error.rfind("MASTERDOWN", 0) == 0) {
      return Status::Unavailable(where + ": " + argv[0] + ": " + error);
    }
    return Status::InvalidValue(where + ": " + argv[0] + ": " + error);
  }
  return Status::Ok();
}

Status RedisConnection::Command(const std::vector<std::string>& argv, RedisReplyPtr* reply, int extra_timeout_ms) {
  if (argv.empty()) return Status::InvalidValue("redis: empty command");
  std::lock_guard<std::mutex> lock(mu_);
  int timeout = address_.command_timeout_ms + extra_timeout_ms;
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool reused = context_ != nullptr;
    if (!context_) RCUDA_RETURN_IF_ERROR(ConnectLocked());
    bool broken = false;
    Status s = SendLocked(argv, reply, timeout, &broken);
    if (!broken || !reused) return s;
    spdlog::info("{}; connecting again", s.message());
  }
  return Status::Unavailable("redis: unreachable");
}

}  // namespace rcuda::faas
