// S3ObjectStore against a real S3 service (s3rver, TEST EQUIPMENT).
#include <catch2/catch.hpp>
#include <set>

#include "faas/storage/s3_object_store.h"
#include "harness.h"

using namespace rcuda::faas;

namespace {

std::unique_ptr<S3ObjectStore> StoreFor(const std::string& endpoint, S3Addressing addressing = S3Addressing::kPath) {
  S3Config config;
  config.endpoint = endpoint;
  config.access_key_id = faas_test::S3rver::kAccessKey;
  config.secret_access_key = faas_test::S3rver::kSecretKey;
  config.addressing = addressing;
  std::unique_ptr<S3ObjectStore> store;
  REQUIRE(S3ObjectStore::Create(config, &store).ok());
  return store;
}

}  // namespace

TEST_CASE("put, get, head, delete against s3rver, path-style", "[s3]") {
  faas_test::S3rver s3;
  auto store = StoreFor(s3.endpoint());
  REQUIRE(store->CreateBucket("in-bucket").ok());

  const std::string key = "jobs/query 1+ü.fasta";
  std::string payload = ">seq\nACGT\n";
  REQUIRE(store->Put("in-bucket", key, payload).ok());
  std::string data;
  REQUIRE(store->Get("in-bucket", key, &data, 1 << 20).ok());
  CHECK(data == payload);

  ObjectInfo info;
  bool exists = false;
  REQUIRE(store->Head("in-bucket", key, &info, &exists).ok());
  CHECK(exists);
  CHECK(info.size == payload.size());
  CHECK(info.etag.size() == 32);  // MD5 hex, quotes removed
  CHECK_FALSE(info.last_modified.empty());

  // Too large for the caller's limit: refused, nothing kept.
  rcuda::Status s = store->Get("in-bucket", key, &data, 4);
  CHECK_FALSE(s.ok());
  CHECK(data.empty());

  // Files: streamed up, downloaded through a .part file.
  faas_test::TempDir dir;
  std::string big(3 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = char(i * 7 + i / 4096);
  faas_test::WriteFile(dir.Path("big.bin"), big);
  REQUIRE(store->PutFile("in-bucket", "big.bin", dir.Path("big.bin")).ok());
  REQUIRE(store->GetFile("in-bucket", "big.bin", dir.Path("copy.bin"), big.size()).ok());
  CHECK(faas_test::ReadFile(dir.Path("copy.bin")) == big);
  CHECK(faas_test::ReadFile(dir.Path("copy.bin.part")).empty());

  REQUIRE(store->Delete("in-bucket", key).ok());
  REQUIRE(store->Head("in-bucket", key, &info, &exists).ok());
  CHECK_FALSE(exists);
  s = store->Get("in-bucket", key, &data, 100);
  INFO(s.message());
  CHECK_FALSE(s.ok());
  CHECK(s.message().find("NoSuchKey") != std::string::npos);
  CHECK(store->Delete("in-bucket", key).ok());  // deleting what is gone succeeds, as in S3

  s = store->Put("no-such-bucket", "k", "v");
  CHECK_FALSE(s.ok());
  CHECK(s.message().find("NoSuchBucket") != std::string::npos);
}

TEST_CASE("ListObjectsV2 pages through a prefix", "[s3]") {
  faas_test::S3rver s3;
  auto store = StoreFor(s3.endpoint());
  REQUIRE(store->CreateBucket("in-bucket").ok());
  std::set<std::string> wanted;
  for (int i = 0; i < 23; ++i) {
    std::string key = "jobs/" + std::to_string(i) + (i % 3 == 0 ? " with space" : "") + ".txt";
    REQUIRE(store->Put("in-bucket", key, std::string(size_t(i), 'x')).ok());
    wanted.insert(key);
  }
  REQUIRE(store->Put("in-bucket", "other/x", "v").ok());

  std::set<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    ListPage page;
    REQUIRE(store->List("in-bucket", "jobs/", token, 10, &page).ok());
    CHECK(page.objects.size() <= 10);
    for (const ObjectInfo& o : page.objects) {
      CHECK(seen.insert(o.key).second);
      CHECK(o.size == std::stoul(o.key.substr(5)));
      CHECK_FALSE(o.etag.empty());
      CHECK_FALSE(o.last_modified.empty());
    }
    token = page.next_continuation_token;
    ++pages;
  } while (!token.empty() && pages < 10);
  CHECK(pages == 3);
  CHECK(seen == wanted);
}

TEST_CASE("virtual-host addressing: bucket.s3.localhost", "[s3]") {
  faas_test::S3rver s3;
  auto path_store = StoreFor(s3.endpoint());
  REQUIRE(path_store->CreateBucket("vbucket").ok());
  auto store = StoreFor(s3.vhost_endpoint(), S3Addressing::kVirtualHost);
  REQUIRE(store->Put("vbucket", "a/b c", "hello").ok());
  std::string data;
  REQUIRE(path_store->Get("vbucket", "a/b c", &data, 100).ok());  // the same object, seen path-style
  CHECK(data == "hello");
  ListPage page;
  REQUIRE(store->List("vbucket", "a/", "", 100, &page).ok());
  REQUIRE(page.objects.size() == 1);
  CHECK(page.objects[0].key == "a/b c");
}
