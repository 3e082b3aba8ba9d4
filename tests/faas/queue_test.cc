// RedisStreamsQueue against a real redis-server (TEST EQUIPMENT, started by
// the harness): visibility timeout, extension, acknowledgement, dead letters,
// delivery counts, and a Redis restart in the middle of the work.
#include <hiredis/hiredis.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <set>

#include "faas/queue/redis_streams_queue.h"
#include "harness.h"

using namespace rcuda::faas;
using namespace std::chrono_literals;

namespace {

std::unique_ptr<RedisStreamsQueue> OpenQueue(const faas_test::RedisServer& redis, const std::string& consumer,
                                             std::chrono::milliseconds visibility = 30s, int64_t max_deliveries = 0) {
  RedisQueueOptions options;
  REQUIRE(ParseRedisAddress(redis.address(), &options.redis).ok());
  options.redis.command_timeout_ms = 2000;
  options.redis.connect_timeout_ms = 500;
  options.stream = "jobs";
  options.consumer = consumer;
  options.visibility_timeout = visibility;
  options.max_deliveries = max_deliveries;
  std::unique_ptr<RedisStreamsQueue> queue;
  rcuda::Status s = RedisStreamsQueue::Open(options, &queue);
  INFO(s.ToString());
  REQUIRE(s.ok());
  return queue;
}

QueueStats StatsOf(Queue* queue) {
  QueueStats stats;
  REQUIRE(queue->Stats(&stats).ok());
  return stats;
}

// Receives until one message comes (each Receive waits up to 50 ms) or
// timeout_ms passes.
std::vector<QueueMessage> ReceiveOne(Queue* queue, int timeout_ms) {
  std::vector<QueueMessage> messages;
  faas_test::WaitUntil(timeout_ms, [&] { return queue->Receive(1, 50ms, &messages).ok() && !messages.empty(); });
  return messages;
}

}  // namespace

TEST_CASE("publish, receive in batches, acknowledge", "[queue]") {
  faas_test::RedisServer redis;
  auto queue = OpenQueue(redis, "a");
  std::set<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    std::string id;
    REQUIRE(queue->Publish("job " + std::to_string(i), &id).ok());
    ids.insert(id);
  }
  CHECK(ids.size() == 5);
  std::vector<QueueMessage> messages;
  REQUIRE(queue->Receive(3, 0ms, &messages).ok());
  REQUIRE(messages.size() == 3);
  CHECK(messages[0].body == "job 0");
  CHECK(messages[0].delivery_count == 1);
  CHECK(StatsOf(queue.get()).pending == 3);
  REQUIRE(queue->Receive(10, 0ms, &messages).ok());
  CHECK(messages.size() == 2);
  REQUIRE(queue->Receive(10, 0ms, &messages).ok());
  CHECK(messages.empty());
  for (const std::string& id : ids) REQUIRE(queue->Ack(id).ok());
  QueueStats stats = StatsOf(queue.get());
  CHECK(stats.length == 0);
  CHECK(stats.pending == 0);
  CHECK(queue->Ack(*ids.begin()).ok());  // twice: still fine

  CHECK_FALSE(queue->Publish(std::string(300 * 1024, 'x'), nullptr).ok());  // over max_body_bytes
  CHECK_FALSE(queue->Receive(0, 0ms, &messages).ok());
}

TEST_CASE("a burst of 3,000 messages is delivered in batches, each once, none lost", "[queue]") {
  faas_test::RedisServer redis;
  auto producer = OpenQueue(redis, "producer");
  auto a = OpenQueue(redis, "a");
  auto b = OpenQueue(redis, "b");
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 3000; ++i) REQUIRE(producer->Publish(std::to_string(i), nullptr).ok());
  auto published = std::chrono::steady_clock::now();
  std::set<std::string> bodies;
  size_t deliveries = 0;
  for (int round = 0; round < 100 && bodies.size() < 3000; ++round) {
    for (Queue* consumer : {a.get(), b.get()}) {
      std::vector<QueueMessage> messages;
      REQUIRE(consumer->Receive(100, 0ms, &messages).ok());
      for (const auto& m : messages) {
        CHECK(m.delivery_count == 1);
        bodies.insert(m.body);
        ++deliveries;
        REQUIRE(consumer->Ack(m.id).ok());
      }
    }
  }
  CHECK(bodies.size() == 3000);
  CHECK(deliveries == 3000);
  QueueStats stats = StatsOf(a.get());
  CHECK(stats.length == 0);
  CHECK(stats.pending == 0);
  auto ms = [](auto d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
  WARN("3,000 messages: published in " << ms(published - start) << " ms, received and acknowledged in "
                                        << ms(std::chrono::steady_clock::now() - published) << " ms");
}

TEST_CASE("a blocking Receive returns as soon as a message is published", "[queue]") {
  faas_test::RedisServer redis;
  auto reader = OpenQueue(redis, "reader");
  auto writer = OpenQueue(redis, "writer");
  auto start = std::chrono::steady_clock::now();
  auto received = std::async(std::launch::async, [&] {
    std::vector<QueueMessage> messages;
    rcuda::Status s = reader->Receive(10, 10s, &messages);
    return s.ok() ? messages : std::vector<QueueMessage>{};
  });
  // The reader blocks on its own connection: another thread's calls go on.
  REQUIRE(writer->Publish("wake up", nullptr).ok());
  std::vector<QueueMessage> messages = received.get();
  REQUIRE(messages.size() == 1);
  CHECK(messages[0].body == "wake up");
  CHECK(std::chrono::steady_clock::now() - start < 8s);
}

TEST_CASE("an unacknowledged message comes back after the visibility timeout, to another consumer", "[queue]") {
  faas_test::RedisServer redis;
  // 1 s: the check that b sees nothing right after a's Receive must not race
  // the timeout on a loaded machine.
  auto a = OpenQueue(redis, "a", 1000ms);
  auto b = OpenQueue(redis, "b", 1000ms);
  std::string id;
  REQUIRE(a->Publish("work", &id).ok());
  std::vector<QueueMessage> messages;
  auto delivered = std::chrono::steady_clock::now();  // no later than Redis's delivery time
  REQUIRE(a->Receive(1, 0ms, &messages).ok());
  REQUIRE(messages.size() == 1);
  REQUIRE(b->Receive(1, 0ms, &messages).ok());
  CHECK(messages.empty());  // invisible while a holds it

  messages = ReceiveOne(b.get(), 5000);
  REQUIRE(messages.size() == 1);
  CHECK(std::chrono::steady_clock::now() - delivered >= 1000ms);
  CHECK(messages[0].id == id);
  CHECK(messages[0].body == "work");
  CHECK(messages[0].delivery_count == 2);

  // a's hold is gone: extending is refused, saying why.
  rcuda::Status s = a->ExtendVisibility(id);
  CHECK_FALSE(s.ok());
  CHECK(s.message().find("another consumer") != std::string::npos);
  REQUIRE(b->ExtendVisibility(id).ok());
  REQUIRE(b->Ack(id).ok());
  s = b->ExtendVisibility(id);
  CHECK(s.message().find("not pending") != std::string::npos);
  CHECK(StatsOf(b.get()).length == 0);
}

TEST_CASE("ExtendVisibility keeps a message invisible past its timeout", "[queue]") {
  faas_test::RedisServer redis;
  auto a = OpenQueue(redis, "a", 1000ms);
  auto b = OpenQueue(redis, "b", 1000ms);
  std::string id;
  REQUIRE(a->Publish("long job", &id).ok());
  std::vector<QueueMessage> messages;
  REQUIRE(a->Receive(1, 0ms, &messages).ok());
  REQUIRE(messages.size() == 1);
  auto start = std::chrono::steady_clock::now();
  // Twice the timeout, extended every 100 ms: b never gets it (a stall of
  // 0.9 s would be needed to lose it).
  for (int i = 0; i < 20; ++i) {
    REQUIRE(b->Receive(1, 100ms, &messages).ok());  // the 100 ms wait is the time passing
    CHECK(messages.empty());
    REQUIRE(a->ExtendVisibility(id).ok());
  }
  CHECK(std::chrono::steady_clock::now() - start >= 1500ms);  // well past the timeout
  // Once a stops extending, b gets it, delivered for the second time only
  // (extensions are not deliveries).
  messages = ReceiveOne(b.get(), 5000);
  REQUIRE(messages.size() == 1);
  CHECK(messages[0].delivery_count == 2);
}

TEST_CASE("dead letters keep the body, the reason, the original id and the delivery count", "[queue]") {
  faas_test::RedisServer redis;
  auto queue = OpenQueue(redis, "a");
  std::string id;
  REQUIRE(queue->Publish("poison", &id).ok());
  std::vector<QueueMessage> messages;
  REQUIRE(queue->Receive(1, 0ms, &messages).ok());
  REQUIRE(messages.size() == 1);
  REQUIRE(queue->DeadLetter(messages[0], "function failed: exit 3").ok());
  REQUIRE(queue->DeadLetter(messages[0], "again").ok());  // a retried call adds nothing
  QueueStats stats = StatsOf(queue.get());
  CHECK(stats.length == 0);
  CHECK(stats.pending == 0);
  CHECK(stats.dead_letters == 1);
  std::vector<DeadLetter> letters;
  REQUIRE(queue->ListDeadLetters(10, &letters).ok());
  REQUIRE(letters.size() == 1);
  CHECK(letters[0].original_id == id);
  CHECK(letters[0].body == "poison");
  CHECK(letters[0].reason == "function failed: exit 3");
  CHECK(letters[0].delivery_count == 1);
}

TEST_CASE("max_deliveries: a message never acknowledged ends in the dead-letter stream", "[queue]") {
  faas_test::RedisServer redis;
  auto queue = OpenQueue(redis, "a", 100ms, /*max_deliveries=*/2);
  REQUIRE(queue->Publish("crashes its worker", nullptr).ok());
  std::vector<int64_t> counts;
  bool dead = faas_test::WaitUntil(10000, [&] {
    std::vector<QueueMessage> messages;
    if (queue->Receive(1, 20ms, &messages).ok() && !messages.empty()) counts.push_back(messages[0].delivery_count);
    return StatsOf(queue.get()).dead_letters == 1;
  });
  REQUIRE(dead);
  CHECK(counts == std::vector<int64_t>{1, 2});
  std::vector<DeadLetter> letters;
  REQUIRE(queue->ListDeadLetters(10, &letters).ok());
  REQUIRE(letters.size() == 1);
  CHECK(letters[0].delivery_count == 3);
  CHECK(letters[0].reason.find("max_deliveries 2") != std::string::npos);
  CHECK(StatsOf(queue.get()).length == 0);
}

TEST_CASE("a stream entry without a body is dead-lettered, not delivered", "[queue]") {
  faas_test::RedisServer redis;
  auto queue = OpenQueue(redis, "a");
  redisContext* c = redisConnect("127.0.0.1", redis.port());
  REQUIRE((c && !c->err));
  freeReplyObject(redisCommand(c, "XADD jobs * something else"));
  redisFree(c);
  std::vector<QueueMessage> messages;
  REQUIRE(queue->Receive(1, 0ms, &messages).ok());
  CHECK(messages.empty());
  std::vector<DeadLetter> letters;
  REQUIRE(queue->ListDeadLetters(10, &letters).ok());
  REQUIRE(letters.size() == 1);
  CHECK(letters[0].reason.find("no body") != std::string::npos);
}

TEST_CASE("PublishOnce publishes a version once", "[queue]") {
  faas_test::RedisServer redis;
  auto queue = OpenQueue(redis, "a");
  bool published = false;
  std::string id;
  REQUIRE(queue->PublishOnce("seen", "k", "v1", "body1", &published, &id).ok());
  CHECK(published);
  CHECK_FALSE(id.empty());
  REQUIRE(queue->PublishOnce("seen", "k", "v1", "body1", &published, &id).ok());
  CHECK_FALSE(published);
  REQUIRE(queue->PublishOnce("seen", "k", "v2", "body2", &published, &id).ok());
  CHECK(published);
  CHECK(StatsOf(queue.get()).length == 2);
}

TEST_CASE("Redis killed mid-way and restarted: calls fail while it is down, nothing is lost", "[queue-restart]") {
  faas_test::RedisServer redis(/*aof=*/true);
  auto queue = OpenQueue(redis, "worker", 500ms);
  std::set<std::string> published;
  for (int i = 0; i < 200; ++i) {
    REQUIRE(queue->Publish("job " + std::to_string(i), nullptr).ok());
    published.insert("job " + std::to_string(i));
  }
  std::set<std::string> done;
  std::vector<QueueMessage> held;  // received, not acknowledged when Redis dies
  auto work = [&](int batches) {
    for (int b = 0; b < batches; ++b) {
      std::vector<QueueMessage> messages;
      REQUIRE(queue->Receive(10, 0ms, &messages).ok());
      for (const auto& m : messages) {
        REQUIRE(queue->Ack(m.id).ok());
        done.insert(m.body);
      }
    }
  };
  work(8);
  REQUIRE(queue->Receive(10, 0ms, &held).ok());
  REQUIRE(held.size() == 10);

  redis.Kill();
  std::vector<QueueMessage> messages;
  rcuda::Status s = queue->Receive(10, 0ms, &messages);
  CHECK(s.ToCudaError() == rcuda::kCudaErrorDevicesUnavailable);
  CHECK(s.message().find("redis") != std::string::npos);
  CHECK(queue->Ack(held[0].id).ToCudaError() == rcuda::kCudaErrorDevicesUnavailable);
  CHECK(queue->Publish("lost?", nullptr).ToCudaError() == rcuda::kCudaErrorDevicesUnavailable);

  redis.Start();
  // Back: the held messages can be acknowledged, publishing works again.
  for (const auto& m : held) {
    REQUIRE(queue->Ack(m.id).ok());
    done.insert(m.body);
  }
  for (int i = 200; i < 250; ++i) {
    REQUIRE(queue->Publish("job " + std::to_string(i), nullptr).ok());
    published.insert("job " + std::to_string(i));
  }
  bool drained = faas_test::WaitUntil(20000, [&] {
    std::vector<QueueMessage> batch;
    if (!queue->Receive(50, 10ms, &batch).ok()) return false;
    for (const auto& m : batch) {
      if (queue->Ack(m.id).ok()) done.insert(m.body);
    }
    QueueStats stats;
    return queue->Stats(&stats).ok() && stats.length == 0 && stats.pending == 0;
  });
  CHECK(drained);
  CHECK(done == published);
}

TEST_CASE("Redis restarted without its data: the group is created again on reconnection", "[queue-restart]") {
  faas_test::RedisServer redis(/*aof=*/false);
  auto queue = OpenQueue(redis, "worker");
  REQUIRE(queue->Publish("before", nullptr).ok());
  redis.Kill();
  redis.Start();
  REQUIRE(queue->Publish("after", nullptr).ok());
  std::vector<QueueMessage> messages;
  REQUIRE(queue->Receive(10, 0ms, &messages).ok());
  REQUIRE(messages.size() == 1);
  CHECK(messages[0].body == "after");
}
