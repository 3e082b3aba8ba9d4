// The webhook bridge: BridgeNotification and the rcuda-faas-events program
// fed MinIO-style notifications over HTTP.
#include <httplib.h>

#include <catch2/catch.hpp>

#include "faas/events/s3_event.h"
#include "faas/queue/events_bridge.h"
#include "faas/queue/redis_streams_queue.h"
#include "harness.h"

using namespace rcuda::faas;
using namespace std::chrono_literals;

namespace {

const char kMinioNotification[] = R"({"EventName":"s3:ObjectCreated:Put","Key":"in/a%20b.txt","Records":[
  {"eventVersion":"2.0","eventSource":"minio:s3","eventTime":"2024-05-01T12:00:00.000Z",
   "eventName":"s3:ObjectCreated:Put","s3":{"bucket":{"name":"in"},"object":{"key":"a%20b.txt","size":5,"eTag":"e1"}}},
  {"eventName":"s3:ObjectRemoved:Delete","s3":{"bucket":{"name":"in"},"object":{"key":"old"}}},
  {"eventName":"s3:ObjectCreated:Copy","s3":{"bucket":{"name":"in"},"object":{"key":"c","size":7,"eTag":"e2"}}}]})";

std::unique_ptr<RedisStreamsQueue> OpenQueue(const faas_test::RedisServer& redis) {
  RedisQueueOptions options;
  REQUIRE(ParseRedisAddress(redis.address(), &options.redis).ok());
  options.consumer = "test";
  std::unique_ptr<RedisStreamsQueue> queue;
  REQUIRE(RedisStreamsQueue::Open(options, &queue).ok());
  return queue;
}

std::vector<S3EventRecord> Drain(Queue* queue) {
  std::vector<QueueMessage> messages;
  REQUIRE(queue->Receive(100, 0ms, &messages).ok());
  std::vector<S3EventRecord> records;
  for (const auto& m : messages) {
    std::vector<S3EventRecord> one;
    REQUIRE(ParseS3EventNotification(m.body, &one).ok());
    REQUIRE(one.size() == 1);  // one record per message
    records.push_back(one[0]);
    REQUIRE(queue->Ack(m.id).ok());
  }
  return records;
}

}  // namespace

TEST_CASE("a notification becomes one message per ObjectCreated record", "[bridge]") {
  faas_test::RedisServer redis;
  auto queue = OpenQueue(redis);
  BridgeResult result = BridgeNotification(kMinioNotification, false, queue.get());
  CHECK(result.http_status == 200);
  CHECK(result.published == 2);
  CHECK(result.skipped == 1);
  auto records = Drain(queue.get());
  REQUIRE(records.size() == 2);
  CHECK(records[0].key == "a b.txt");
  CHECK(records[0].etag == "e1");
  CHECK(records[1].key == "c");

  CHECK(BridgeNotification(kMinioNotification, true, queue.get()).published == 3);
  CHECK(BridgeNotification("{\"Records\":[{}]}", false, queue.get()).http_status == 400);
  redis.Kill();
  CHECK(BridgeNotification(kMinioNotification, false, queue.get()).http_status == 503);  // the sender retries
}

TEST_CASE("rcuda-faas-events takes MinIO's webhook POSTs", "[bridge]") {
  faas_test::RedisServer redis;
  faas_test::TempDir dir;
  faas_test::WriteFile(dir.Path("token"), "s3cret\n");
  pid_t pid = faas_test::Spawn({std::string(FAAS_BIN_DIR) + "/rcuda-faas-events", "--port", "0", "--port-file",
                                dir.Path("port"), "--redis", redis.address(), "--auth-token-file", dir.Path("token"),
                                "--log-level", "debug"},
                               dir.Path("bridge.log"));
  REQUIRE(faas_test::WaitUntil(10000, [&] { return !faas_test::ReadFile(dir.Path("port")).empty() || faas_test::Exited(pid); }));
  int port = std::stoi(faas_test::ReadFile(dir.Path("port")));
  httplib::Client client("127.0.0.1", port);
  httplib::Headers auth = {{"Authorization", "Bearer s3cret"}};

  auto unauthorized = client.Post("/", kMinioNotification, "application/json");
  REQUIRE(unauthorized);
  CHECK(unauthorized->status == 401);
  auto ok = client.Post("/minio/events", auth, kMinioNotification, "application/json");
  REQUIRE(ok);
  CHECK(ok->status == 200);
  auto bad = client.Post("/", auth, "{\"Records\":[{\"eventName\":1}]}", "application/json");
  REQUIRE(bad);
  CHECK(bad->status == 400);
  CHECK(bad->body.find("eventName") != std::string::npos);
  auto huge = client.Post("/", auth, std::string(2 << 20, ' '), "application/json");
  CHECK((!huge || huge->status == 413));

  auto queue = OpenQueue(redis);
  auto records = Drain(queue.get());
  REQUIRE(records.size() == 2);
  CHECK(records[0].key == "a b.txt");
  faas_test::Stop(pid);
}
