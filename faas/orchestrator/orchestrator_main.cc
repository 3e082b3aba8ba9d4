// rcuda-orchestrator: takes S3 event messages from the queue, leases GPUs for
// each from ssgmd, invokes its function (Lambda's Invoke API: rcuda-fn, or
// Lambda itself) with the lease, releases the lease and acknowledges the
// message. docs/faas.md, "Orchestrator (rcuda-orchestrator)".
#include <CLI/CLI.hpp>
#include <asio.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "common/env.h"
#include "common/log.h"
#include "faas/orchestrator/orchestrator.h"
#include "faas/queue/redis_streams_queue.h"
#include "protocol/lease_token.h"
#include "scheduler/line_client.h"
#include "scheduler/units.h"
#include "scheduler/wire.h"

namespace {

using namespace rcuda;
using namespace rcuda::faas;

int Die(const std::string& message) {
  std::fprintf(stderr, "rcuda-orchestrator: %s\n", message.c_str());
  return 2;
}

struct Texts {  // options people write with units
  std::string visibility_timeout = "30s", receive_wait = "1s", lease_wait = "20s", lease_ttl = "60s";
  std::string busy_backoff_min = "50ms", busy_backoff_max = "2s", invoke_margin = "30s", throttle_backoff = "1s";
  std::string stats_interval = "1s", drain_timeout = "30s";
  std::string lease_mode = "blocking";
};

Status Durations(const Texts& t, OrchestratorOptions* o, int64_t* visibility_ms) {
  struct Item {
    const std::string* text;
    int64_t* value;
    const char* name;
  } items[] = {{&t.visibility_timeout, visibility_ms, "--visibility-timeout"},
               {&t.receive_wait, &o->receive_wait_ms, "--receive-wait"},
               {&t.lease_wait, &o->lease_wait_ms, "--lease-wait"},
               {&t.lease_ttl, &o->lease_ttl_ms, "--lease-ttl"},
               {&t.busy_backoff_min, &o->busy_backoff_min_ms, "--busy-backoff-min"},
               {&t.busy_backoff_max, &o->busy_backoff_max_ms, "--busy-backoff-max"},
               {&t.invoke_margin, &o->invoke_margin_ms, "--invoke-margin"},
               {&t.throttle_backoff, &o->throttle_backoff_ms, "--throttle-backoff"},
               {&t.stats_interval, &o->stats_interval_ms, "--stats-interval"},
               {&t.drain_timeout, &o->drain_timeout_ms, "--drain-timeout"}};
  for (const auto& item : items) {
    Status s = sched::ParseDurationMs(*item.text, item.value);
    if (!s.ok()) return Status::InvalidValue(std::string(item.name) + ": " + s.message());
  }
  o->visibility_timeout_ms = *visibility_ms;
  if (t.lease_mode == "blocking") o->blocking_leases = true;
  else if (t.lease_mode == "nonblocking") o->blocking_leases = false;
  else return Status::InvalidValue("--lease-mode: blocking or nonblocking");
  return Status::Ok();
}

// AWS Lambda: libcurl signs each Invoke with Signature V4 for service
// "lambda", with the credentials of the environment.
Status AwsSigning(OrchestratorOptions* o) {
  std::string region = GetEnvOr("AWS_REGION", GetEnvOr("AWS_DEFAULT_REGION", ""));
  std::string key = GetEnvOr("AWS_ACCESS_KEY_ID", ""), secret = GetEnvOr("AWS_SECRET_ACCESS_KEY", "");
  if (region.empty() || key.empty() || secret.empty()) {
    return Status::InvalidValue("--aws-lambda needs AWS_REGION, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
  }
  o->aws_sigv4 = "aws:amz:" + region + ":lambda";
  o->aws_credentials = key + ":" + secret;
  o->aws_session_token = GetEnvOr("AWS_SESSION_TOKEN", "");
  return Status::Ok();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"rcuda-orchestrator: S3 events from the queue -> GPU leases from ssgmd -> function invocations"};
  app.set_config("--config", "", "configuration file (key = value; keys are the long option names)");
  OrchestratorOptions options;
  Texts texts;
  RedisQueueOptions queue_options;
  std::string redis = GetEnvOr("RCUDA_REDIS", "127.0.0.1:6379");
  std::string ssgmd = GetEnvOr("SSGM_SERVER", "127.0.0.1");
  std::string ssgmd_key_file = GetEnvOr("SSGM_KEY_FILE", "");
  std::string secret_key_file = GetEnvOr("RCUDA_ORCHESTRATOR_KEY_FILE", "");
  std::string invoke_key_file, log_level = "info";
  options.invoke_endpoint = GetEnvOr("RCUDA_FN_URL", options.invoke_endpoint);
  bool aws_lambda = false, check_config = false;

  app.add_option("--functions-dir", options.functions_dir, "function definitions (FDL *.yaml), re-read when they change")
      ->required();
  app.add_option("--redis", redis, "the queue's Redis, host:port ($RCUDA_REDIS; password: $RCUDA_REDIS_PASSWORD)")
      ->capture_default_str();
  app.add_option("--stream", queue_options.stream, "the queue's stream")->capture_default_str();
  app.add_option("--group", queue_options.group, "the queue's consumer group")->capture_default_str();
  app.add_option("--consumer", queue_options.consumer, "this orchestrator's consumer name (default: host-pid)");
  app.add_option("--visibility-timeout", texts.visibility_timeout, "a held message comes back after this without a heartbeat")
      ->capture_default_str();
  app.add_option("--max-attempts", options.max_attempts, "deliveries of a failing message before its dead letter")
      ->capture_default_str();
  app.add_option("--max-in-flight", options.max_in_flight, "jobs holding a lease at once")->capture_default_str();
  app.add_option("--prefetch", options.prefetch, "messages held waiting for a lease")->capture_default_str();
  app.add_option("--receive-wait", texts.receive_wait, "how long one receive waits for messages")->capture_default_str();
  app.add_option("--ssgmd", ssgmd, "ssgmd's host[:port] ($SSGM_SERVER)")->capture_default_str();
  app.add_option("--ssgmd-key-file", ssgmd_key_file, "ssgmd's client key, to sign requests ($SSGM_KEY_FILE)");
  app.add_option("--lease-secret-key-file", secret_key_file,
                 "the orchestrator's own key: lease secrets are HMACs of message ids under it "
                 "($RCUDA_ORCHESTRATOR_KEY_FILE)");
  app.add_option("--lease-mode", texts.lease_mode, "blocking (wait at ssgmd) or nonblocking (back off when busy)")
      ->capture_default_str();
  app.add_option("--lease-wait", texts.lease_wait, "blocking: how long one request waits at ssgmd")->capture_default_str();
  app.add_option("--lease-ttl", texts.lease_ttl, "a lease's time to live (at least the function's timeout + margin)")
      ->capture_default_str();
  app.add_option("--busy-backoff-min", texts.busy_backoff_min, "nonblocking: first delay after busy")->capture_default_str();
  app.add_option("--busy-backoff-max", texts.busy_backoff_max, "nonblocking: longest delay")->capture_default_str();
  app.add_option("--invoke-endpoint", options.invoke_endpoint, "the Lambda Invoke API: rcuda-fn ($RCUDA_FN_URL) or "
                 "https://lambda.REGION.amazonaws.com")->capture_default_str();
  app.add_option("--invoke-key-file", invoke_key_file, "rcuda-fn's invoke key (Authorization: Bearer)");
  app.add_flag("--aws-lambda", aws_lambda, "sign invocations with AWS Signature V4 (AWS_REGION, AWS_ACCESS_KEY_ID, ...)");
  app.add_option("--invoke-margin", texts.invoke_margin, "how long past the function's timeout an invocation may take")
      ->capture_default_str();
  app.add_option("--throttle-backoff", texts.throttle_backoff, "delay after a 429 without Retry-After, or when the runtime cannot be reached")->capture_default_str();
  app.add_flag("--reuse-connections", options.reuse_connections, "keep HTTP connections (off: rcuda-fn's server gives "
               "each idle kept connection a thread)");
  app.add_option("--stats-file", options.stats_file, "counters and gauges, JSON, rewritten every --stats-interval");
  app.add_option("--stats-interval", texts.stats_interval)->capture_default_str();
  app.add_option("--job-log", options.job_log, "one JSON line per job that ended, with the times of its steps");
  app.add_option("--drain-timeout", texts.drain_timeout, "at SIGTERM, how long running jobs may take to finish")
      ->capture_default_str();
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")->capture_default_str();
  app.add_flag("--check-config", check_config, "validate the options, print them, and exit");
  CLI11_PARSE(app, argc, argv);
  InitLogging("rcuda-orchestrator", log_level);

  int64_t visibility_ms = 0;
  Status s = Durations(texts, &options, &visibility_ms);
  if (s.ok() && aws_lambda) s = AwsSigning(&options);
  if (s.ok()) s = ValidateOptions(options);
  if (s.ok()) s = ParseRedisAddress(redis, &queue_options.redis);
  SsgmdClientOptions ssgmd_options;
  if (s.ok()) s = sched::ParseHostPort(ssgmd, sched::kDefaultSsgmdPort, &ssgmd_options.host, &ssgmd_options.port);
  if (s.ok() && !ssgmd_key_file.empty()) s = ReadLeaseKeyFile(ssgmd_key_file, &ssgmd_options.client_key);
  std::string secret_key;
  if (s.ok() && !secret_key_file.empty()) s = ReadLeaseKeyFile(secret_key_file, &secret_key);
  if (s.ok() && !invoke_key_file.empty()) s = ReadLeaseKeyFile(invoke_key_file, &options.invoke_key);
  if (!s.ok()) return Die(s.message());
  queue_options.visibility_timeout = std::chrono::milliseconds(visibility_ms);
  // The queue's own dead letter catches a message whose deliveries all ended
  // without a verdict (an orchestrator killed each time).
  queue_options.max_deliveries = options.max_attempts;

  if (check_config) {
    std::printf("functions-dir %s\nredis %s:%d stream %s group %s\nvisibility-timeout %lld ms\nmax-attempts %d\n"
                "max-in-flight %d\nprefetch %d\nssgmd %s:%u (%s)\nlease-mode %s, wait %lld ms, ttl %lld ms\n"
                "lease secrets %s\ninvoke-endpoint %s%s\n",
                options.functions_dir.c_str(), queue_options.redis.host.c_str(), queue_options.redis.port,
                queue_options.stream.c_str(), queue_options.group.c_str(), (long long)visibility_ms,
                options.max_attempts, options.max_in_flight, options.prefetch, ssgmd_options.host.c_str(),
                unsigned(ssgmd_options.port), ssgmd_options.client_key.empty() ? "unsigned" : "signed",
                options.blocking_leases ? "blocking" : "nonblocking", (long long)options.lease_wait_ms,
                (long long)options.lease_ttl_ms, secret_key.empty() ? "per run (no key file)" : "from the key file",
                options.invoke_endpoint.c_str(), options.aws_sigv4.empty() ? "" : " (AWS Signature V4)");
    return 0;
  }

  std::signal(SIGPIPE, SIG_IGN);
  std::unique_ptr<RedisStreamsQueue> queue;
  // Redis may come up after us: keep trying (the loop has not started yet).
  for (int attempt = 0;; ++attempt) {
    s = RedisStreamsQueue::Open(queue_options, &queue);
    if (s.ok()) break;
    if (attempt == 0) spdlog::warn("{} (retrying)", s.message());
    if (attempt >= 600) return Die(s.message());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  asio::io_context io(1);
  Orchestrator orchestrator(io, options, queue.get(), ssgmd_options, secret_key, queue_options.stream);
  s = orchestrator.Start();
  if (!s.ok()) return Die(s.message());
  spdlog::info("taking messages from {} on {}:{} (group {}, consumer {}); ssgmd {}:{}; invoking {}",
               queue_options.stream, queue_options.redis.host, queue_options.redis.port, queue_options.group,
               queue->options().consumer, ssgmd_options.host, ssgmd_options.port, options.invoke_endpoint);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  std::function<void(const asio::error_code&, int)> on_signal = [&](const asio::error_code& ec, int signal) {
    if (ec) return;
    if (orchestrator.done()) return;
    static bool second = false;
    if (second) {
      spdlog::warn("signal {} again: exiting now (leases end at their time to live, messages come back)", signal);
      std::_Exit(3);
    }
    second = true;
    spdlog::info("signal {}: finishing running jobs (again to exit at once)", signal);
    orchestrator.Shutdown();
    signals.async_wait(on_signal);
  };
  signals.async_wait(on_signal);
  io.run();
  return 0;
}
