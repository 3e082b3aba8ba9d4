// S3 configuration (environment, JSON file) and URL layout.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <optional>

#include "faas/storage/s3_config.h"
#include "faas/storage/s3_object_store.h"
#include "faas/storage/s3_uri.h"
#include "harness.h"

using namespace rcuda::faas;

namespace {

// Sets variables for one test and restores them afterwards.
class ScopedEnv {
 public:
  void Set(const char* name, const char* value) {
    const char* old = std::getenv(name);
    saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
    if (value) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second) {
        setenv(it->first.c_str(), it->second->c_str(), 1);
      } else {
        unsetenv(it->first.c_str());
      }
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

void ClearAwsEnv(ScopedEnv* env) {
  for (const char* name : {"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION",
                           "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "RCUDA_S3_ADDRESSING",
                           "RCUDA_S3_CONFIG"}) {
    env->Set(name, nullptr);
  }
}

}  // namespace

TEST_CASE("the environment's AWS variables configure the store, the S3-specific endpoint first", "[s3-config]") {
  ScopedEnv env;
  ClearAwsEnv(&env);
  env.Set("AWS_ENDPOINT_URL", "http://general:1");
  env.Set("AWS_ENDPOINT_URL_S3", "http://minio.local:9000");
  env.Set("AWS_DEFAULT_REGION", "eu-west-1");
  env.Set("AWS_REGION", "eu-south-2");
  env.Set("AWS_ACCESS_KEY_ID", "AK");
  env.Set("AWS_SECRET_ACCESS_KEY", "SK");
  env.Set("AWS_SESSION_TOKEN", "TOKEN");
  env.Set("RCUDA_S3_ADDRESSING", "virtual");
  S3Config config;
  REQUIRE(LoadS3Config(&config).ok());
  CHECK(config.endpoint == "http://minio.local:9000");
  CHECK(config.region == "eu-south-2");
  CHECK(config.access_key_id == "AK");
  CHECK(config.secret_access_key == "SK");
  CHECK(config.session_token == "TOKEN");
  CHECK(config.addressing == S3Addressing::kVirtualHost);

  env.Set("RCUDA_S3_ADDRESSING", "sideways");
  CHECK_FALSE(LoadS3Config(&config).ok());
}

TEST_CASE("the JSON config file is read, then the environment overrides it; unknown fields are refused",
          "[s3-config]") {
  ScopedEnv env;
  ClearAwsEnv(&env);
  faas_test::TempDir dir;
  faas_test::WriteFile(dir.Path("s3.json"), R"({"endpoint":"http://127.0.0.1:9000","region":"us-west-2",
      "access_key_id":"FILEKEY","secret_access_key":"FILESECRET","addressing":"path","max_attempts":2})");
  env.Set("RCUDA_S3_CONFIG", dir.Path("s3.json").c_str());
  env.Set("AWS_ACCESS_KEY_ID", "ENVKEY");
  env.Set("AWS_SECRET_ACCESS_KEY", "ENVSECRET");
  S3Config config;
  REQUIRE(LoadS3Config(&config).ok());
  CHECK(config.endpoint == "http://127.0.0.1:9000");
  CHECK(config.region == "us-west-2");
  CHECK(config.access_key_id == "ENVKEY");
  CHECK(config.secret_access_key == "ENVSECRET");
  CHECK(config.max_attempts == 2);
  CHECK(config.addressing == S3Addressing::kPath);

  S3Config other;
  rcuda::Status s = ApplyS3ConfigJson(R"({"endpiont":"x"})", &other);
  CHECK_FALSE(s.ok());
  CHECK(s.message().find("endpiont") != std::string::npos);
  CHECK_FALSE(ApplyS3ConfigJson(R"({"max_attempts":"3"})", &other).ok());
  CHECK_FALSE(ApplyS3ConfigJson(R"({"max_attempts":1000})", &other).ok());
  CHECK_FALSE(ApplyS3ConfigJson("[1,2]", &other).ok());
  CHECK_FALSE(ApplyS3ConfigJson("{", &other).ok());
}

TEST_CASE("a key id without its secret is refused", "[s3-config]") {
  ScopedEnv env;
  ClearAwsEnv(&env);
  env.Set("AWS_ACCESS_KEY_ID", "AK");
  S3Config config;
  CHECK_FALSE(LoadS3Config(&config).ok());
}

TEST_CASE("path-style and virtual-host URLs, keys encoded once", "[s3-config]") {
  S3Config config;
  config.endpoint = "http://127.0.0.1:9000/base/";
  std::unique_ptr<S3ObjectStore> store;
  REQUIRE(S3ObjectStore::Create(config, &store).ok());
  std::string url;
  REQUIRE(store->Url("in", "jobs/a b+c%.txt", "", &url).ok());
  CHECK(url == "http://127.0.0.1:9000/base/in/jobs/a%20b%2Bc%25.txt");

  // Without an endpoint: AWS, virtual host for DNS-safe names, path for others.
  S3Config aws;
  aws.region = "eu-west-1";
  REQUIRE(S3ObjectStore::Create(aws, &store).ok());
  REQUIRE(store->Url("my-bucket", "k", "list-type=2", &url).ok());
  CHECK(url == "https://my-bucket.s3.eu-west-1.amazonaws.com/k?list-type=2");
  REQUIRE(store->Url("My_Bucket", "k", "", &url).ok());
  CHECK(url == "https://s3.eu-west-1.amazonaws.com/My_Bucket/k");

  S3Config vhost;
  vhost.endpoint = "http://s3.localhost:9000";
  vhost.addressing = S3Addressing::kVirtualHost;
  REQUIRE(S3ObjectStore::Create(vhost, &store).ok());
  REQUIRE(store->Url("inbox", "é", "", &url).ok());
  CHECK(url == "http://inbox.s3.localhost:9000/%C3%A9");
  CHECK_FALSE(store->Url("in", "k", "", &url).ok());  // too short for a host name

  S3Config ip = vhost;
  ip.endpoint = "http://127.0.0.1:9000";
  CHECK_FALSE(S3ObjectStore::Create(ip, &store).ok());
  S3Config bad;
  bad.endpoint = "ftp://example.com";
  CHECK_FALSE(S3ObjectStore::Create(bad, &store).ok());
}

TEST_CASE("canonical queries are encoded and sorted by name", "[s3-config]") {
  CHECK(S3CanonicalQuery({{"prefix", "a b/c"}, {"list-type", "2"}, {"continuation-token", "x+y="}}) ==
        "continuation-token=x%2By%3D&list-type=2&prefix=a%20b%2Fc");
  CHECK(IsValidBucketName("in-bucket.1"));
  CHECK_FALSE(IsValidBucketName(""));
  CHECK_FALSE(IsValidBucketName("in/../x"));
  CHECK_FALSE(IsValidBucketName("in bucket"));
}
