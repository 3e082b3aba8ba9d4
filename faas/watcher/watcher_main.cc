// rcuda-faas-watcher: lists an input bucket periodically and puts a record on
// the queue for every new object version (for stores without event
// notifications, such as s3rver). See docs/faas.md.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <ctime>

#include "common/log.h"
#include "faas/storage/s3_object_store.h"
#include "faas/watcher/bucket_watcher.h"

int main(int argc, char** argv) {
  CLI::App app{"rcuda-faas-watcher: publish new objects of a bucket (S3 event records) on the rcuda faas queue"};
  std::string redis = "127.0.0.1:6379", log_level = "info";
  rcuda::faas::RedisQueueOptions queue_options;
  rcuda::faas::WatcherOptions options;
  int interval_ms = 2000;
  bool once = false;
  app.add_option("--bucket", options.bucket, "the bucket to watch")->required();
  app.add_option("--prefix", options.prefix, "only keys under this prefix");
  app.add_option("--state-key", options.state_key, "Redis hash of published versions (default per bucket/prefix)");
  app.add_option("--interval-ms", interval_ms, "time between listings")->check(CLI::Range(10, 3600000));
  app.add_flag("--once", once, "list once and exit (0: every version published)");
  app.add_option("--redis", redis, "Redis host:port (password: RCUDA_REDIS_PASSWORD)");
  app.add_option("--stream", queue_options.stream, "the queue's stream");
  app.add_option("--group", queue_options.group, "the queue's consumer group (created when missing)");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error");
  CLI11_PARSE(app, argc, argv);
  rcuda::InitLogging("rcuda-faas-watcher", log_level);
  signal(SIGPIPE, SIG_IGN);  // a closed Redis connection fails the call, not the process

  rcuda::faas::S3Config s3_config;
  std::unique_ptr<rcuda::faas::S3ObjectStore> store;
  std::unique_ptr<rcuda::faas::RedisStreamsQueue> queue;
  rcuda::Status s = rcuda::faas::LoadS3Config(&s3_config);
  if (s.ok()) s = rcuda::faas::S3ObjectStore::Create(s3_config, &store);
  if (s.ok()) s = rcuda::faas::ParseRedisAddress(redis, &queue_options.redis);
  if (s.ok()) s = rcuda::faas::RedisStreamsQueue::Open(queue_options, &queue);
  if (!s.ok()) {
    spdlog::error("{}", s.message());
    return 1;
  }
  options.aws_region = s3_config.region;
  rcuda::faas::BucketWatcher watcher(store.get(), queue.get(), options);

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  spdlog::info("watching {}/{} every {} ms, state in {}", options.bucket, options.prefix, interval_ms,
               watcher.options().state_key);
  for (;;) {
    rcuda::faas::WatcherScan scan;
    s = watcher.ScanOnce(&scan);
    if (s.ok()) {
      if (scan.published > 0) spdlog::info("listed {}, published {}", scan.listed, scan.published);
    } else {
      spdlog::warn("{}", s.message());
    }
    if (once) return s.ok() ? 0 : 1;
    timespec wait{interval_ms / 1000, (interval_ms % 1000) * 1000000L};
    if (sigtimedwait(&signals, nullptr, &wait) > 0) return 0;  // SIGTERM/SIGINT: stop between passes
  }
}
