// Queue: an at-least-once message queue with a visibility timeout and a
// dead-letter queue, the shape of SQS. RedisStreamsQueue implements it with a
// Redis stream and a consumer group; an SQS implementation can stand beside it.
//
// A received message stays invisible to other receivers until it is
// acknowledged, or until its visibility timeout passes without an
// ExtendVisibility, after which it is delivered again (its delivery count
// grows). Nothing is removed except by Ack or DeadLetter.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace rcuda::faas {

struct QueueMessage {
  std::string id;               // unique per message, stable across redeliveries
  std::string body;             // the payload (an S3 event record, as JSON)
  int64_t delivery_count = 0;   // 1 on first delivery
};

struct QueueStats {
  int64_t length = 0;       // messages in the queue, delivered or not
  int64_t pending = 0;      // delivered and not yet acknowledged
  int64_t dead_letters = 0; // messages in the dead-letter queue
};

struct DeadLetter {
  std::string id;           // the dead-letter entry's own id
  std::string original_id;  // the message's id in the queue
  std::string body;
  std::string reason;
  int64_t delivery_count = 0;
};

class Queue {
 public:
  virtual ~Queue() = default;

  virtual Status Publish(const std::string& body, std::string* id) = 0;

  // Up to max messages: those whose visibility timeout passed first, then new
  // ones, waiting up to `wait` when there are none.
  virtual Status Receive(int max, std::chrono::milliseconds wait, std::vector<QueueMessage>* messages) = 0;

  // Restarts the visibility timeout of a received message (a heartbeat while
  // it is being worked on).
  virtual Status ExtendVisibility(const std::string& id) = 0;

  // Done: removes the message for good.
  virtual Status Ack(const std::string& id) = 0;

  // Gives up on a message: records it with the reason in the dead-letter
  // queue, then removes it from the queue.
  virtual Status DeadLetter(const QueueMessage& message, const std::string& reason) = 0;

  virtual Status Stats(QueueStats* stats) = 0;
  virtual Status ListDeadLetters(int max, std::vector<faas::DeadLetter>* letters) = 0;
};

}  // namespace rcuda::faas
