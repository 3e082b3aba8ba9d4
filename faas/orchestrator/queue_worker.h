// QueueWorker: the Queue's blocking calls (hiredis, or any Queue) run on two
// threads of their own and report back on an Asio event loop, so that the
// loop never waits for Redis:
//   - the receiver: Receive, which may block waiting for messages;
//   - the controller: ExtendVisibility, Ack, DeadLetter, Stats, one after
//     another in the order asked.
// RedisStreamsQueue gives Receive a connection of its own, so a blocked
// Receive never delays the others.
//
// Post from the loop's thread; callbacks run on the loop. After Stop() no
// callback runs.
#pragma once

#include <asio.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "faas/queue/queue.h"

namespace rcuda::faas {

class QueueWorker {
 public:
  using Done = std::function<void(Status)>;
  using Received = std::function<void(Status, std::vector<QueueMessage>)>;

  QueueWorker(asio::io_context& io, Queue* queue);
  ~QueueWorker();
  QueueWorker(const QueueWorker&) = delete;
  QueueWorker& operator=(const QueueWorker&) = delete;

  void Receive(int max, std::chrono::milliseconds wait, Received done);
  void Extend(const std::string& id, Done done);
  void Ack(const std::string& id, Done done);
  void DeadLetter(const QueueMessage& message, const std::string& reason, Done done);
  void Stats(std::function<void(Status, QueueStats)> done);

  // Lets the calls in progress end (a Receive within its wait), drops the
  // rest; no callback runs afterwards.
  void Stop();

  // Calls waiting for the controller.
  size_t control_backlog() const;

 private:
  // One thread that runs tasks in order.
  class Lane {
   public:
    void Start();
    void Push(std::function<void()> task);
    void Stop();
    size_t backlog() const;

   private:
    std::thread thread_;
    mutable std::mutex mu_;
    std::condition_variable wake_;
    std::deque<std::function<void()>> tasks_;  // guarded by mu_
    bool stop_ = false;                        // guarded by mu_
  };

  // Runs `callback` on the loop unless the worker stopped meanwhile.
  void Deliver(std::function<void()> callback);

  asio::io_context& io_;
  Queue* queue_;
  Lane receiver_;
  Lane controller_;
  std::shared_ptr<std::atomic<bool>> alive_ = std::make_shared<std::atomic<bool>>(true);
};

}  // namespace rcuda::faas
