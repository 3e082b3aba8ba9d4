// BucketWatcher: for a store that publishes no events (s3rver, or a bucket
// without notifications), lists the bucket under a prefix and publishes an
// S3 event record (ObjectCreated:Put) for every object version it has not
// published before.
//
// An object version is its key with its ETag and its version id (or, in an
// unversioned bucket, its LastModified): a re-upload of the same key is a
// new version and is published again. What was published is recorded in a
// Redis hash (field: key, value: the version), in the same script as the
// publish (RedisStreamsQueue::PublishOnce), so a crash of the watcher at any
// point neither loses nor repeats a version: a restarted watcher carries on
// from the hash.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "faas/queue/redis_streams_queue.h"
#include "faas/storage/object_store.h"

namespace rcuda::faas {

struct WatcherOptions {
  std::string bucket;
  std::string prefix;
  std::string state_key;  // empty: rcuda:faas:watcher:<bucket>/<prefix>
  std::string aws_region; // written into the records
  int page_size = 1000;
  int64_t max_pages = 1000000;  // guards against a store that never ends a listing
};

struct WatcherScan {
  int64_t listed = 0;
  int64_t published = 0;
};

class BucketWatcher {
 public:
  BucketWatcher(ObjectStore* store, RedisStreamsQueue* queue, WatcherOptions options);

  // One pass over the listing. Stops at the first failure (the next pass
  // carries on: what was published stays recorded).
  Status ScanOnce(WatcherScan* scan);

  // The version string recorded for an object.
  static std::string VersionOf(const ObjectInfo& object);

  const WatcherOptions& options() const { return options_; }

 private:
  ObjectStore* store_;
  RedisStreamsQueue* queue_;
  WatcherOptions options_;
};

}  // namespace rcuda::faas
