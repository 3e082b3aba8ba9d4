#include "server/session_monitor.h"

#include <poll.h>


#include <spdlog/spdlog.h>

namespace rcuda {

SessionMonitor::SessionMonitor(Connection* connection, Options options, std::function<void()> end_process)
    : connection_(connection), options_(options), end_process_(std::move(end_process)), last_activity_(Now()) {}

SessionMonitor::~SessionMonitor() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void SessionMonitor::Start() { thread_ = std::thread([this] { Loop(); }); }

int64_t SessionMonitor::Now() const { return Clock::now().time_since_epoch().count(); }

void SessionMonitor::Reading() {
  last_activity_.store(Now());
  reading_.store(true);
}

void SessionMonitor::Serving() {
  reading_.store(false);
  last_activity_.store(Now());
}

void SessionMonitor::WaitStarted() { outstanding_.fetch_add(1); }

void SessionMonitor::WaitDone() {
  last_activity_.store(Now());
  outstanding_.fetch_sub(1);
}

bool SessionMonitor::ClientGone() const {
  // The session's socket (TCP, or the Unix socket beside the shared-memory
  // rings): a peer that closed its end shows as a hang-up, without reading
  // anything the session thread has yet to read.
  int fd = connection_->NativeHandle();
  if (fd < 0) return false;
  pollfd p{fd, POLLRDHUP, 0};
  if (poll(&p, 1, 0) <= 0) return false;
  return p.revents & (POLLRDHUP | POLLHUP | POLLERR);
}

void SessionMonitor::Loop() {
  bool gone = false;
  Clock::time_point gone_since;
  std::unique_lock lock(mu_);
  while (!cv_.wait_for(lock, options_.tick, [&] { return stopping_; })) {
    auto now = Clock::now();
    if (ClientGone()) {
      if (!gone) gone_since = now;
      gone = true;
      if (now - gone_since >= options_.gone_grace) {
        spdlog::warn("the client is gone and the session is still blocked after {} ms (waiting for the GPU); "
                     "ending the worker",
                     options_.gone_grace.count());
        spdlog::default_logger()->flush();
        end_process_();
        return;
      }
    } else {
      gone = false;
    }
    if (options_.idle_timeout.count() > 0 && reading_.load() && outstanding_.load() == 0 && !ended_idle_.load()) {
      auto idle = now - Clock::time_point(Clock::duration(last_activity_.load()));
      if (idle >= options_.idle_timeout) {
        spdlog::warn("session idle for {} s (--session-idle-timeout): ending it",
                     std::chrono::duration_cast<std::chrono::seconds>(idle).count());
        ended_idle_.store(true);
        connection_->Shutdown();
      }
    }
  }
}

}  // namespace rcuda
