// The bucket watcher: every object version published once, across restarts
// of the watcher, against s3rver and redis-server (TEST EQUIPMENT).
#include <catch2/catch.hpp>
#include <cstdlib>
#include <set>

#include "faas/events/s3_event.h"
#include "faas/storage/s3_object_store.h"
#include "faas/watcher/bucket_watcher.h"
#include "harness.h"

using namespace rcuda::faas;
using namespace std::chrono_literals;

namespace {

std::unique_ptr<S3ObjectStore> StoreFor(const faas_test::S3rver& s3) {
  S3Config config;
  config.endpoint = s3.endpoint();
  config.access_key_id = faas_test::S3rver::kAccessKey;
  config.secret_access_key = faas_test::S3rver::kSecretKey;
  std::unique_ptr<S3ObjectStore> store;
  REQUIRE(S3ObjectStore::Create(config, &store).ok());
  return store;
}

std::unique_ptr<RedisStreamsQueue> OpenQueue(const faas_test::RedisServer& redis) {
  RedisQueueOptions options;
  REQUIRE(ParseRedisAddress(redis.address(), &options.redis).ok());
  options.consumer = "test";
  std::unique_ptr<RedisStreamsQueue> queue;
  REQUIRE(RedisStreamsQueue::Open(options, &queue).ok());
  return queue;
}

// Receives and acknowledges everything queued; returns "key etag" per message.
std::multiset<std::string> Drain(Queue* queue) {
  std::multiset<std::string> seen;
  for (int round = 0; round < 100; ++round) {
    std::vector<QueueMessage> messages;
    REQUIRE(queue->Receive(100, 0ms, &messages).ok());
    if (messages.empty()) break;
    for (const auto& m : messages) {
      std::vector<S3EventRecord> records;
      REQUIRE(ParseS3EventNotification(m.body, &records).ok());
      REQUIRE(records.size() == 1);
      CHECK(records[0].event_name == "ObjectCreated:Put");
      CHECK(records[0].bucket == "in-bucket");
      seen.insert(records[0].key + " " + records[0].etag);
      REQUIRE(queue->Ack(m.id).ok());
    }
  }
  return seen;
}

std::string EtagOf(ObjectStore* store, const std::string& key) {
  ObjectInfo info;
  bool exists = false;
  REQUIRE(store->Head("in-bucket", key, &info, &exists).ok());
  REQUIRE(exists);
  return info.etag;
}

}  // namespace

TEST_CASE("each object version is published once, across watcher restarts", "[watcher]") {
  faas_test::S3rver s3;
  faas_test::RedisServer redis;
  auto store = StoreFor(s3);
  auto queue = OpenQueue(redis);
  REQUIRE(store->CreateBucket("in-bucket").ok());
  for (int i = 0; i < 5; ++i) REQUIRE(store->Put("in-bucket", "jobs/" + std::to_string(i) + " x", "v" + std::to_string(i)).ok());
  REQUIRE(store->Put("in-bucket", "elsewhere/k", "not watched").ok());

  WatcherOptions options;
  options.bucket = "in-bucket";
  options.prefix = "jobs/";
  options.page_size = 2;  // several pages
  {
    BucketWatcher watcher(store.get(), queue.get(), options);
    WatcherScan scan;
    REQUIRE(watcher.ScanOnce(&scan).ok());
    CHECK(scan.listed == 5);
    CHECK(scan.published == 5);
    REQUIRE(watcher.ScanOnce(&scan).ok());
    CHECK(scan.published == 0);
  }
  auto seen = Drain(queue.get());
  CHECK(seen.size() == 5);
  CHECK(seen.count("jobs/0 x " + EtagOf(store.get(), "jobs/0 x")) == 1);

  // A new watcher (a restart) finds the state in Redis: nothing again, but
  // a new object and a new version of an old one.
  REQUIRE(store->Put("in-bucket", "jobs/new", "n").ok());
  REQUIRE(store->Put("in-bucket", "jobs/1 x", "changed").ok());
  BucketWatcher restarted(store.get(), queue.get(), options);
  WatcherScan scan;
  REQUIRE(restarted.ScanOnce(&scan).ok());
  CHECK(scan.listed == 6);
  CHECK(scan.published == 2);
  seen = Drain(queue.get());
  std::multiset<std::string> expected = {"jobs/new " + EtagOf(store.get(), "jobs/new"),
                                        "jobs/1 x " + EtagOf(store.get(), "jobs/1 x")};
  CHECK(seen == expected);
}

TEST_CASE("rcuda-faas-watcher --once, configured from the AWS variables", "[watcher]") {
  faas_test::S3rver s3;
  faas_test::RedisServer redis;
  auto store = StoreFor(s3);
  auto queue = OpenQueue(redis);
  REQUIRE(store->CreateBucket("in-bucket").ok());
  REQUIRE(store->Put("in-bucket", "a", "1").ok());
  REQUIRE(store->Put("in-bucket", "b", "2").ok());
  setenv("AWS_ENDPOINT_URL_S3", s3.endpoint().c_str(), 1);
  setenv("AWS_ACCESS_KEY_ID", faas_test::S3rver::kAccessKey, 1);
  setenv("AWS_SECRET_ACCESS_KEY", faas_test::S3rver::kSecretKey, 1);
  faas_test::TempDir dir;
  auto run = [&] {
    pid_t pid = faas_test::Spawn({std::string(FAAS_BIN_DIR) + "/rcuda-faas-watcher", "--bucket", "in-bucket", "--once",
                                  "--redis", redis.address()},
                                 dir.Path("watcher.log"));
    return faas_test::WaitExit(pid);
  };
  REQUIRE(run() == 0);
  CHECK(Drain(queue.get()).size() == 2);
  REQUIRE(run() == 0);  // a second process: nothing new
  CHECK(Drain(queue.get()).empty());
  REQUIRE(store->Put("in-bucket", "c", "3").ok());
  REQUIRE(run() == 0);
  std::multiset<std::string> expected = {"c " + EtagOf(store.get(), "c")};
  CHECK(Drain(queue.get()) == expected);
  unsetenv("AWS_ENDPOINT_URL_S3");
  unsetenv("AWS_ACCESS_KEY_ID");
  unsetenv("AWS_SECRET_ACCESS_KEY");
}
