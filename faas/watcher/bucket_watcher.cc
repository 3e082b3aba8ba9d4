#include "faas/watcher/bucket_watcher.h"

#include "faas/events/s3_event.h"

namespace rcuda::faas {

BucketWatcher::BucketWatcher(ObjectStore* store, RedisStreamsQueue* queue, WatcherOptions options)
    : store_(store), queue_(queue), options_(std::move(options)) {
  if (options_.state_key.empty()) options_.state_key = "rcuda:faas:watcher:" + options_.bucket + "/" + options_.prefix;
}

std::string BucketWatcher::VersionOf(const ObjectInfo& object) {
  return object.etag + "|" + (object.version_id.empty() ? object.last_modified : "v:" + object.version_id);
}

Status BucketWatcher::ScanOnce(WatcherScan* scan) {
  *scan = WatcherScan();
  std::string token;
  for (int64_t page_number = 0;; ++page_number) {
    if (page_number >= options_.max_pages) {
      return Status::InvalidValue("watcher: listing of " + options_.bucket + " longer than " +
                                  std::to_string(options_.max_pages) + " pages");
    }
    ListPage page;
    RCUDA_RETURN_IF_ERROR(store_->List(options_.bucket, options_.prefix, token, options_.page_size, &page));
    for (const ObjectInfo& object : page.objects) {
      ++scan->listed;
      S3EventRecord record;
      record.event_name = "ObjectCreated:Put";
      record.event_time = object.last_modified;
      record.aws_region = options_.aws_region;
      record.bucket = options_.bucket;
      record.key = object.key;
      record.size = object.size;
      record.etag = object.etag;
      record.version_id = object.version_id;
      bool published = false;
      RCUDA_RETURN_IF_ERROR(queue_->PublishOnce(options_.state_key, object.key, VersionOf(object),
                                                S3EventNotificationJson({record}), &published, nullptr));
      if (published) ++scan->published;
    }
    if (page.next_continuation_token.empty()) return Status::Ok();
    if (page.next_continuation_token == token) {
      return Status::InvalidValue("watcher: the store repeated a continuation token listing " + options_.bucket);
    }
    token = page.next_continuation_token;
  }
}

}  // namespace rcuda::faas
