// What S3ObjectStore sends, checked on a capture server (s3rver does not
// verify V4 signatures): every request signed by libcurl as AWS verifies it,
// retries, and size limits.
#include <catch2/catch.hpp>

#include "faas/storage/s3_object_store.h"
#include "harness.h"

using namespace rcuda::faas;
using faas_test::CannedResponse;
using faas_test::CapturedRequest;
using faas_test::CaptureServer;
using faas_test::CheckSigV4;

namespace {

std::unique_ptr<S3ObjectStore> StoreFor(const CaptureServer& server, const std::string& token = "") {
  S3Config config;
  config.endpoint = server.endpoint();
  config.region = "eu-west-3";
  config.access_key_id = "AKIDEXAMPLE";
  config.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  config.session_token = token;
  config.backoff_initial_ms = 1;
  config.backoff_max_ms = 5;
  std::unique_ptr<S3ObjectStore> store;
  REQUIRE(S3ObjectStore::Create(config, &store).ok());
  return store;
}

CannedResponse Ok(const CapturedRequest& request, int) {
  CannedResponse r;
  if (request.target.find("list-type=2") != std::string::npos) {
    r.body = "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>";
  } else if (request.method == "GET") {
    r.body = "data";
  }
  r.headers["ETag"] = "\"abc\"";
  return r;
}

}  // namespace

TEST_CASE("the signature check agrees with AWS's published example", "[s3-sigv4]") {
  // AWS S3 documentation, "Example: GET Object" (Signature V4, single chunk).
  CapturedRequest request;
  request.method = "GET";
  request.target = "/test.txt";
  request.headers = {{"host", "examplebucket.s3.amazonaws.com"},
                     {"range", "bytes=0-9"},
                     {"x-amz-content-sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
                     {"x-amz-date", "20130524T000000Z"},
                     {"authorization",
                      "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
                      "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                      "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"}};
  CHECK(CheckSigV4(request, "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1") == "");
  CHECK(CheckSigV4(request, "AKIAIOSFODNN7EXAMPLE", "wrong", "us-east-1") != "");
  request.headers.find("range")->second = "bytes=0-10";
  CHECK(CheckSigV4(request, "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1") != "");
}

TEST_CASE("every request is signed with SigV4 over its canonical form, odd keys included", "[s3-sigv4]") {
  CaptureServer server(Ok);
  auto store = StoreFor(server, "SESSION/TOKEN==");
  const std::vector<std::string> keys = {"plain.txt", "dir/with space/a+b=c&d.txt", "ümlaut/日本語", "a/./b/../c",
                                         "percent%2F~tilde", "!'()*;:@$,"};
  std::string data;
  ObjectInfo info;
  bool exists = false;
  for (const std::string& key : keys) {
    REQUIRE(store->Put("in-bucket", key, "payload of " + key).ok());
    REQUIRE(store->Get("in-bucket", key, &data, 100).ok());
    REQUIRE(store->Head("in-bucket", key, &info, &exists).ok());
    REQUIRE(store->Delete("in-bucket", key).ok());
  }
  faas_test::TempDir dir;
  faas_test::WriteFile(dir.Path("file"), "file payload");
  REQUIRE(store->PutFile("in-bucket", "from file", dir.Path("file")).ok());
  ListPage page;
  REQUIRE(store->List("in-bucket", "jobs/a b+c", "token/with=odd+chars", 7, &page).ok());
  REQUIRE(store->CreateBucket("new-bucket").ok());

  auto requests = server.requests();
  REQUIRE(requests.size() == keys.size() * 4 + 3);
  for (const CapturedRequest& request : requests) {
    INFO(request.method << " " << request.target);
    CHECK(CheckSigV4(request, "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "eu-west-3") == "");
    CHECK(request.Header("x-amz-security-token") == "SESSION/TOKEN==");
  }
  // The path carries the key encoded once, dot segments untouched.
  CHECK(requests[0].target == "/in-bucket/plain.txt");
  CHECK(requests[4].target == "/in-bucket/dir/with%20space/a%2Bb%3Dc%26d.txt");
  CHECK(requests[12].target == "/in-bucket/a/./b/../c");
  // In-memory uploads carry their hash; streamed ones are UNSIGNED-PAYLOAD.
  CHECK(requests[0].Header("x-amz-content-sha256") != "UNSIGNED-PAYLOAD");
  CHECK(requests[keys.size() * 4].Header("x-amz-content-sha256") == "UNSIGNED-PAYLOAD");
  CHECK(requests[keys.size() * 4].body == "file payload");
  // A region other than us-east-1 is named when creating a bucket.
  CHECK(requests.back().body.find("<LocationConstraint>eu-west-3</LocationConstraint>") != std::string::npos);
}

TEST_CASE("5xx answers and lost connections are retried, a bounded number of times", "[s3-sigv4]") {
  SECTION("two 503s, then success") {
    CaptureServer server([](const CapturedRequest& r, int index) {
      if (index < 2) return CannedResponse{503, {}, "<Error><Code>SlowDown</Code><Message>x</Message></Error>"};
      return Ok(r, index);
    });
    auto store = StoreFor(server);
    REQUIRE(store->Put("in-bucket", "k", "v").ok());
    CHECK(server.requests().size() == 3);
  }
  SECTION("always 500: gives up after max_attempts, Unavailable, naming the S3 code") {
    CaptureServer server([](const CapturedRequest&, int) {
      return CannedResponse{500, {}, "<Error><Code>InternalError</Code><Message>boom</Message></Error>"};
    });
    auto store = StoreFor(server);
    rcuda::Status s = store->Put("in-bucket", "k", "v");
    CHECK(s.ToCudaError() == rcuda::kCudaErrorDevicesUnavailable);
    CHECK(s.message().find("InternalError") != std::string::npos);
    CHECK(server.requests().size() == 4);
  }
  SECTION("4xx is not retried") {
    CaptureServer server([](const CapturedRequest&, int) {
      return CannedResponse{404, {}, "<Error><Code>NoSuchKey</Code><Message>no</Message></Error>"};
    });
    auto store = StoreFor(server);
    std::string data;
    rcuda::Status s = store->Get("in-bucket", "k", &data, 100);
    CHECK(s.ToCudaError() == rcuda::kCudaErrorInvalidValue);
    CHECK(s.message().find("NoSuchKey") != std::string::npos);
    CHECK(server.requests().size() == 1);
  }
  SECTION("nobody listening: a connection error, retried, then Unavailable") {
    S3Config config;
    config.endpoint = "http://127.0.0.1:" + std::to_string(faas_test::FreePort());
    config.max_attempts = 2;
    config.backoff_initial_ms = 1;
    std::unique_ptr<S3ObjectStore> store;
    REQUIRE(S3ObjectStore::Create(config, &store).ok());
    rcuda::Status s = store->Put("in-bucket", "k", "v");
    CHECK(s.ToCudaError() == rcuda::kCudaErrorDevicesUnavailable);
  }
}

TEST_CASE("objects larger than max_bytes are refused before they are buffered", "[s3-sigv4]") {
  std::string big(100000, 'x');
  for (bool chunked : {false, true}) {
    CaptureServer server([&](const CapturedRequest&, int) {
      CannedResponse r;
      r.body = big;
      r.chunked = chunked;
      return r;
    });
    auto store = StoreFor(server);
    std::string data;
    rcuda::Status s = store->Get("in-bucket", "k", &data, 1000);
    INFO("chunked " << chunked);
    CHECK_FALSE(s.ok());
    CHECK(s.message().find("larger than") != std::string::npos);
    CHECK(data.size() <= 1000);
    faas_test::TempDir dir;
    CHECK_FALSE(store->GetFile("in-bucket", "k", dir.Path("out"), 1000).ok());
    CHECK(faas_test::ReadFile(dir.Path("out")).empty());
    CHECK(faas_test::ReadFile(dir.Path("out.part")).empty());
    CHECK(server.requests().size() == 2);  // not retried
    REQUIRE(store->Get("in-bucket", "k", &data, big.size()).ok());
    CHECK(data == big);
  }
}
