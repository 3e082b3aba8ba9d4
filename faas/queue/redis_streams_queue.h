// RedisStreamsQueue: Queue over a Redis stream and a consumer group.
//
//   Publish           XADD stream * body B
//   Receive           XAUTOCLAIM (messages idle longer than the visibility
//                     timeout, i.e. not acknowledged nor extended in time),
//                     then XREADGROUP ... > for new ones (BLOCK when none)
//   ExtendVisibility  XCLAIM id to the same consumer (JUSTID: resets the idle
//                     time without counting a delivery), refused when the
//                     message went to another consumer meanwhile
//   Ack               XACK + XDEL (one script: atomic)
//   DeadLetter        XADD dead-letter stream (original_id, body, reason,
//                     delivery_count) + XACK + XDEL (one script)
//
// Delivery counts are Redis's own (XPENDING). Messages are kept until Ack or
// DeadLetter, so a Redis with persistence (AOF) loses none across restarts,
// and one that is briefly down makes calls fail with Status::Unavailable
// until it is back. At-least-once: a message whose acknowledgement was lost
// is delivered again.
//
// Thread-safe. Receive uses a connection of its own, so a blocking Receive
// never delays Ack or ExtendVisibility from other threads.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "faas/queue/queue.h"
#include "faas/queue/redis_connection.h"

namespace rcuda::faas {

struct RedisQueueOptions {
  RedisAddress redis;
  std::string stream = "rcuda:faas:jobs";
  std::string group = "rcuda-orchestrator";
  std::string consumer;           // empty: <hostname>-<pid>
  std::string dead_letter_stream; // empty: <stream>:dead
  std::chrono::milliseconds visibility_timeout{30000};
  // > 0: Receive moves a message delivered more than this many times to the
  // dead-letter stream instead of delivering it again (SQS's maxReceiveCount).
  int64_t max_deliveries = 0;
  size_t max_body_bytes = 256 * 1024;  // SQS's limit
  int max_receive = 1000;              // cap on Receive's max
};

class RedisStreamsQueue : public Queue {
 public:
  // Connects and creates the group (XGROUP CREATE ... 0 MKSTREAM; an existing
  // group is kept). Fails with Unavailable when Redis cannot be reached.
  static Status Open(const RedisQueueOptions& options, std::unique_ptr<RedisStreamsQueue>* queue);

  Status Publish(const std::string& body, std::string* id) override;
  Status Receive(int max, std::chrono::milliseconds wait, std::vector<QueueMessage>* messages) override;
  Status ExtendVisibility(const std::string& id) override;
  Status Ack(const std::string& id) override;
  Status DeadLetter(const QueueMessage& message, const std::string& reason) override;
  Status Stats(QueueStats* stats) override;
  Status ListDeadLetters(int max, std::vector<faas::DeadLetter>* letters) override;

  // Publishes body unless the hash state_key already maps field to version;
  // then records version there. Both in one script, so a crash or a lost
  // reply can neither publish a version twice nor record one unpublished.
  // *published says which happened (id is empty when nothing was).
  Status PublishOnce(const std::string& state_key, const std::string& field, const std::string& version,
                     const std::string& body, bool* published, std::string* id);

  const RedisQueueOptions& options() const { return options_; }

 private:
  explicit RedisStreamsQueue(const RedisQueueOptions& options);
  Status SetUp(const RedisConnection::Send& send);
  Status Reclaim(int max, std::vector<QueueMessage>* messages);
  Status ReadNew(int max, std::chrono::milliseconds wait, std::vector<QueueMessage>* messages);
  Status DeliveryCount(const std::string& id, int64_t* count);

  RedisQueueOptions options_;
  std::unique_ptr<RedisConnection> control_;  // everything but Receive
  std::unique_ptr<RedisConnection> reader_;   // Receive
  std::mutex cursor_mu_;
  std::string reclaim_cursor_ = "0-0";        // guarded by cursor_mu_
};

}  // namespace rcuda::faas
