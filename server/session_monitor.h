// Watches a session from a thread of its own, so that no session outlives
// its use whatever its session thread is doing:
// - idle: the client sent nothing for `idle_timeout` and no request of it is
//   in progress (a client waiting for a long kernel is not idle): the
//   session's connection is shut down and the session ends as if the client
//   had left (its GPU memory goes with its worker);
// - gone: the client closed its connection but the session thread has not
//   noticed after `gone_grace` (it is blocked on the GPU, e.g. behind a
//   kernel that never ends): the worker process ends. The process is the
//   session: the driver frees everything it held.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "protocol/transport.h"

namespace rcuda {

class SessionMonitor {
 public:
  using Clock = std::chrono::steady_clock;
  struct Options {
    std::chrono::milliseconds idle_timeout{0};  // 0: never idle
    std::chrono::milliseconds gone_grace{5000};
    std::chrono::milliseconds tick{500};
  };
  // `end_process` runs (on the monitor's thread) when the client is gone
  // and the session thread is stuck; the worker passes one that exits.
  SessionMonitor(Connection* connection, Options options, std::function<void()> end_process);
  ~SessionMonitor();
  SessionMonitor(const SessionMonitor&) = delete;
  SessionMonitor& operator=(const SessionMonitor&) = delete;

  void Start();
  // The session thread waits for the next request / serves one.
  void Reading();
  void Serving();
  // A reply left for the wait pool is outstanding / was sent.
  void WaitStarted();
  void WaitDone();
  // Whether the monitor ended the session for idleness.
  bool ended_idle() const { return ended_idle_.load(); }

 private:
  void Loop();
  bool ClientGone() const;
  int64_t Now() const;

  Connection* connection_;
  Options options_;
  std::function<void()> end_process_;
  std::atomic<bool> reading_{false};
  std::atomic<int> outstanding_{0};
  std::atomic<int64_t> last_activity_;  // Clock ticks
  std::atomic<bool> ended_idle_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace rcuda
