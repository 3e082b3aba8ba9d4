#include "faas/orchestrator/ssgmd_client.h"

#include <spdlog/spdlog.h>

#include <random>

#include "scheduler/request_auth.h"
#include "scheduler/wire.h"

namespace rcuda::faas {

using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

// A reply longer than this is not one ssgmd sends for the calls made here
// (no status); the connection is dropped instead of buffering it.
constexpr size_t kMaxReplyBytes = size_t(1) << 20;

}  // namespace

SsgmdClient::SsgmdClient(asio::io_context& io, SsgmdClientOptions options)
    : io_(io),
      options_(std::move(options)),
      resolver_(io),
      socket_(io),
      connect_timer_(io),
      watchdog_(io),
      input_(kMaxReplyBytes) {}

SsgmdClient::~SsgmdClient() { Stop(); }

void SsgmdClient::Call(sched::Json message, int64_t wait_ms, Callback callback) {
  if (stopped_) return;
  uint64_t id = next_id_++;
  Pending& pending = pending_[id];
  pending.message = std::move(message);
  pending.wait_ms = std::max<int64_t>(0, wait_ms);
  pending.callback = std::move(callback);
  if (state_ == State::kConnected) {
    Send(id, pending);
    Flush();
  } else if (state_ == State::kIdle) {
    Connect();
  }
  ArmWatchdog();
}

void SsgmdClient::Stop() {
  if (stopped_) return;
  stopped_ = true;
  ++generation_;
  pending_.clear();
  asio::error_code ignored;
  resolver_.cancel();
  socket_.close(ignored);
  connect_timer_.cancel();
  watchdog_.cancel();
}

void SsgmdClient::Connect() {
  state_ = State::kConnecting;
  uint64_t generation = ++generation_;
  connect_timer_.expires_after(std::chrono::milliseconds(options_.connect_timeout_ms));
  connect_timer_.async_wait([this, generation](const asio::error_code& ec) {
    if (ec || generation != generation_ || state_ != State::kConnecting) return;
    Reset("no connection within " + std::to_string(options_.connect_timeout_ms) + " ms");
  });
  resolver_.async_resolve(
      options_.host, std::to_string(options_.port),
      [this, generation](const asio::error_code& ec, const tcp::resolver::results_type& results) {
        if (generation != generation_ || stopped_) return;
        if (ec) return Reset("cannot resolve " + options_.host + ": " + ec.message());
        asio::async_connect(socket_, results, [this, generation](const asio::error_code& ec, const tcp::endpoint&) {
          if (generation != generation_ || stopped_) return;
          if (ec) return Reset(ec.message());
          OnConnected();
        });
      });
}

void SsgmdClient::OnConnected() {
  connect_timer_.cancel();
  state_ = State::kConnected;
  ++connections_;
  backoff_ms_ = 50;
  asio::error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);
  if (down_logged_) {
    spdlog::info("ssgmd at {}:{} is back; sending {} unanswered request(s) again", options_.host, options_.port,
                 pending_.size());
    down_logged_ = false;
  }
  for (auto& [id, pending] : pending_) Send(id, pending);
  Flush();
  Read();
}

void SsgmdClient::Send(uint64_t id, Pending& pending) {
  sched::Json message = pending.message;
  message.Set("id", int64_t(id));
  std::string line = message.Dump();
  // Signed at each sending: the signature carries the time, and ssgmd takes
  // a signed line for a minute only.
  if (!options_.client_key.empty()) line = sched::SignRequestLine(line, options_.client_key, sched::UnixMillisNow());
  line += '\n';
  output_.push_back(std::move(line));
  pending.sent = true;
  pending.sent_at = Clock::now();
}

void SsgmdClient::Flush() {
  if (write_in_progress_ || output_.empty() || state_ != State::kConnected) return;
  writing_.clear();
  while (!output_.empty()) {
    writing_ += output_.front();
    output_.pop_front();
  }
  write_in_progress_ = true;
  uint64_t generation = generation_;
  asio::async_write(socket_, asio::buffer(writing_), [this, generation](const asio::error_code& ec, size_t) {
    if (generation != generation_ || stopped_) return;
    write_in_progress_ = false;
    if (ec) return Reset("write: " + ec.message());
    Flush();
  });
}

void SsgmdClient::Read() {
  uint64_t generation = generation_;
  asio::async_read_until(socket_, input_, '\n', [this, generation](const asio::error_code& ec, size_t n) {
    if (generation != generation_ || stopped_) return;
    if (ec) {
      return Reset(ec == asio::error::not_found ? "a reply longer than " + std::to_string(kMaxReplyBytes) + " bytes"
                                                : ec == asio::error::eof ? "ssgmd closed the connection" : ec.message());
    }
    auto data = input_.data();
    std::string line(asio::buffers_begin(data), asio::buffers_begin(data) + std::ptrdiff_t(n) - 1);
    input_.consume(n);
    OnLine(line);
    if (generation == generation_ && !stopped_) Read();
  });
}

void SsgmdClient::OnLine(const std::string& line) {
  sched::Json reply;
  Status s = sched::ParseJson(line, &reply);
  const sched::Json* id = s.ok() && reply.is_object() ? reply.Find("id") : nullptr;
  const sched::Json* error = s.ok() && reply.is_object() ? reply.Find("error") : nullptr;
  if (!id || !id->is_integer() || !error || !error->is_integer()) {
    // Not an answer to anything sent here: the stream cannot be trusted to
    // pair replies with requests any more.
    return Reset("ssgmd sent a line that is not a reply with an id and an error code");
  }
  auto found = pending_.find(uint64_t(id->AsInt()));
  if (found == pending_.end()) {
    spdlog::debug("ssgmd: a reply to no pending request (id {})", id->AsInt());
    return;
  }
  Callback callback = std::move(found->second.callback);
  pending_.erase(found);
  callback(reply);  // may Call() again
}

void SsgmdClient::Reset(const std::string& why) {
  if (stopped_) return;
  ++generation_;
  asio::error_code ignored;
  socket_.close(ignored);
  connect_timer_.cancel();
  input_.consume(input_.size());
  output_.clear();
  write_in_progress_ = false;
  for (auto& [id, pending] : pending_) pending.sent = false;
  if (!down_logged_) {
    spdlog::warn("ssgmd at {}:{}: {}; reconnecting ({} request(s) waiting)", options_.host, options_.port, why,
                 pending_.size());
    down_logged_ = true;
  }
  if (pending_.empty()) {
    state_ = State::kIdle;  // reconnect when there is something to send
    return;
  }
  state_ = State::kWaiting;
  static thread_local std::minstd_rand jitter(std::random_device{}());
  int64_t delay = backoff_ms_ / 2 + int64_t(jitter() % uint64_t(backoff_ms_));
  backoff_ms_ = std::min<int64_t>(backoff_ms_ * 2, options_.max_backoff_ms);
  uint64_t generation = generation_;
  connect_timer_.expires_after(std::chrono::milliseconds(delay));
  connect_timer_.async_wait([this, generation](const asio::error_code& ec) {
    if (ec || generation != generation_ || stopped_) return;
    Connect();
  });
}

void SsgmdClient::ArmWatchdog() {
  // One timer checks every pending reply a few times a second; it runs only
  // while something is pending.
  if (stopped_ || pending_.empty() || watchdog_armed_) return;
  watchdog_armed_ = true;
  watchdog_.expires_after(std::chrono::milliseconds(250));
  watchdog_.async_wait([this](const asio::error_code& ec) {
    watchdog_armed_ = false;
    if (ec || stopped_) return;
    if (state_ == State::kConnected) {
      auto now = Clock::now();
      for (const auto& [id, pending] : pending_) {
        if (!pending.sent) continue;
        auto due = pending.sent_at + std::chrono::milliseconds(pending.wait_ms + options_.reply_timeout_ms);
        if (now > due) {
          Reset("no reply to request " + std::to_string(id) + " in time");
          break;
        }
      }
    } else if (state_ == State::kIdle && !pending_.empty()) {
      Connect();
    }
    ArmWatchdog();
  });
}

}  // namespace rcuda::faas
