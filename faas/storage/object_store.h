// ObjectStore: the part of the S3 API the serverless pipeline needs (put,
// get, head, delete, list). S3ObjectStore speaks it to AWS S3, MinIO, Ceph
// RGW or s3rver; tests may use any implementation behind this interface.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace rcuda::faas {

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
  std::string etag;           // without quotes
  std::string last_modified;  // as the store reports it (ISO 8601 in listings)
  std::string version_id;     // empty when the bucket is not versioned
};

struct ListPage {
  std::vector<ObjectInfo> objects;
  std::string next_continuation_token;  // empty: this was the last page
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  virtual Status CreateBucket(const std::string& bucket) = 0;

  virtual Status Put(const std::string& bucket, const std::string& key, std::string_view data) = 0;
  // Uploads a file's contents (streamed, not read into memory first).
  virtual Status PutFile(const std::string& bucket, const std::string& key, const std::string& path) = 0;

  // Downloads into memory; fails when the object is larger than max_bytes.
  virtual Status Get(const std::string& bucket, const std::string& key, std::string* data,
                     uint64_t max_bytes) = 0;
  // Downloads into a file (written to path.part, renamed when complete);
  // fails when the object is larger than max_bytes.
  virtual Status GetFile(const std::string& bucket, const std::string& key, const std::string& path,
                         uint64_t max_bytes) = 0;

  // *exists is false (and the status OK) when there is no such object.
  virtual Status Head(const std::string& bucket, const std::string& key, ObjectInfo* info, bool* exists) = 0;

  // Deleting an object that does not exist succeeds, as in S3.
  virtual Status Delete(const std::string& bucket, const std::string& key) = 0;

  // ListObjectsV2: one page of at most max_keys objects under prefix.
  virtual Status List(const std::string& bucket, const std::string& prefix, const std::string& continuation_token,
                      int max_keys, ListPage* page) = 0;
};

}  // namespace rcuda::faas
