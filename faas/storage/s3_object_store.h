// S3ObjectStore: ObjectStore over libcurl, speaking the S3 REST API to AWS
// S3, MinIO, Ceph RGW or s3rver. libcurl signs every request with AWS
// Signature V4 (CURLOPT_AWS_SIGV4); this class only lays the request out in
// canonical form (see s3_uri.h) and sets x-amz-content-sha256, which libcurl
// 7.88 signs but does not add by itself.
//
// Thread-safe: calls from several threads run at once, each on its own
// libcurl handle (kept for reuse, with their connections).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "faas/storage/object_store.h"
#include "faas/storage/s3_config.h"

typedef void CURL;

namespace rcuda::faas {

struct S3Request;   // s3_object_store.cc
struct S3Response;

class S3ObjectStore : public ObjectStore {
 public:
  // Fails on an endpoint libcurl cannot parse or an addressing that cannot
  // work with it (virtual-host buckets under an IP address).
  static Status Create(const S3Config& config, std::unique_ptr<S3ObjectStore>* store);
  ~S3ObjectStore() override;

  Status CreateBucket(const std::string& bucket) override;
  Status Put(const std::string& bucket, const std::string& key, std::string_view data) override;
  Status PutFile(const std::string& bucket, const std::string& key, const std::string& path) override;
  Status Get(const std::string& bucket, const std::string& key, std::string* data, uint64_t max_bytes) override;
  Status GetFile(const std::string& bucket, const std::string& key, const std::string& path,
                 uint64_t max_bytes) override;
  Status Head(const std::string& bucket, const std::string& key, ObjectInfo* info, bool* exists) override;
  Status Delete(const std::string& bucket, const std::string& key) override;
  // max_keys is clamped to [1, 1000].
  Status List(const std::string& bucket, const std::string& prefix, const std::string& continuation_token,
              int max_keys, ListPage* page) override;

  // The URL a request for bucket/key goes to (key may be empty; query is
  // appended as given). For logs and tests.
  Status Url(const std::string& bucket, const std::string& key, const std::string& query, std::string* url) const;

  const S3Config& config() const { return config_; }

 private:
  explicit S3ObjectStore(const S3Config& config) : config_(config) {}
  Status Perform(S3Request& request, S3Response* response);
  Status PerformOnce(CURL* curl, S3Request& request, S3Response* response, bool* retryable);
  CURL* TakeHandle();
  void ReturnHandle(CURL* curl);

  S3Config config_;
  std::string scheme_;
  std::string host_;       // host, with :port when the endpoint names one
  std::string base_path_;  // without a trailing '/'
  bool virtual_host_default_ = false;
  std::string sigv4_;      // "aws:amz:REGION:s3"
  std::string userpwd_;    // "key:secret"

  std::mutex mu_;
  std::vector<CURL*> idle_handles_;  // guarded by mu_
};

}  // namespace rcuda::faas
