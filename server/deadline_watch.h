// One thread that shuts down connections whose deadline has passed: the
// daemon's handshakes are bounded in time without a timer thread each. A
// shut-down connection fails its pending and later reads and writes, which
// is how the thread blocked in them learns of the deadline.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <thread>

#include "protocol/transport.h"

namespace rcuda {

class DeadlineWatch {
 public:
  using Clock = std::chrono::steady_clock;

  DeadlineWatch();
  ~DeadlineWatch();
  DeadlineWatch(const DeadlineWatch&) = delete;
  DeadlineWatch& operator=(const DeadlineWatch&) = delete;

  // Shuts `connection` down at `deadline` unless disarmed before. Returns
  // the id to disarm it with.
  uint64_t Arm(Connection* connection, Clock::time_point deadline);
  // After this returns the watch never touches the connection again.
  // Whether the deadline had passed (the connection was shut down).
  bool Disarm(uint64_t id);

  // Shuts every armed connection down now (the daemon is stopping).
  void ExpireAll();

  size_t armed();

 private:
  struct Entry {
    Connection* connection;
    Clock::time_point deadline;
    bool expired = false;
  };
  void Loop();

  std::mutex mu_;
  std::condition_variable cv_;
  std::map<uint64_t, Entry> entries_;  // guarded by mu_
  uint64_t next_id_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace rcuda
