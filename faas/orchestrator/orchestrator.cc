#include "faas/orchestrator/orchestrator.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

namespace rcuda::faas {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

constexpr milliseconds kTickPeriod{50};
constexpr milliseconds kCatalogRefreshPeriod{2000};

}  // namespace

Status ValidateOptions(const OrchestratorOptions& o) {
  auto bad = [](const std::string& what) { return Status::InvalidValue(what); };
  if (o.functions_dir.empty()) return bad("--functions-dir is required");
  if (o.max_in_flight < 1 || o.max_in_flight > 100000) return bad("--max-in-flight: 1 to 100000");
  if (o.prefetch < 1 || o.prefetch > 10000) return bad("--prefetch: 1 to 10000");
  if (o.receive_wait_ms < 0 || o.receive_wait_ms > 20000) return bad("--receive-wait: 0 to 20s");
  if (o.visibility_timeout_ms < 300) return bad("--visibility-timeout: at least 300ms");
  if (o.max_attempts < 1 || o.max_attempts > 100) return bad("--max-attempts: 1 to 100");
  if (o.lease_wait_ms < 1) return bad("--lease-wait: more than 0");
  if (o.lease_ttl_ms < 1000) return bad("--lease-ttl: at least 1s");
  if (o.busy_backoff_min_ms < 1 || o.busy_backoff_max_ms < o.busy_backoff_min_ms) {
    return bad("--busy-backoff-min and --busy-backoff-max: 1 ms or more, min <= max");
  }
  if (o.invoke_endpoint.rfind("http://", 0) != 0 && o.invoke_endpoint.rfind("https://", 0) != 0) {
    return bad("--invoke-endpoint: an http:// or https:// URL");
  }
  if (o.invoke_margin_ms < 0) return bad("--invoke-margin: 0 or more");
  if (o.throttle_backoff_ms < 1) return bad("--throttle-backoff: more than 0");
  if (o.stats_interval_ms < 100) return bad("--stats-interval: at least 100ms");
  if (o.drain_timeout_ms < 0) return bad("--drain-timeout: 0 or more");
  return Status::Ok();
}

Orchestrator::Orchestrator(asio::io_context& io, OrchestratorOptions options, Queue* queue, SsgmdClientOptions ssgmd,
                           const std::string& lease_secret_key, const std::string& queue_name)
    : io_(io),
      options_(std::move(options)),
      queue_(queue),
      identities_(lease_secret_key, queue_name),
      catalog_(options_.functions_dir),
      ssgmd_(io, std::move(ssgmd)),
      invoker_(io, options_.max_response_bytes),
      worker_(io, queue),
      tick_(io),
      receive_retry_(io) {}

Orchestrator::~Orchestrator() {
  worker_.Stop();
  invoker_.Stop();
  ssgmd_.Stop();
}

Status Orchestrator::Start() {
  RCUDA_RETURN_IF_ERROR(ValidateOptions(options_));
  RCUDA_RETURN_IF_ERROR(catalog_.Refresh());
  if (catalog_.size() == 0) spdlog::warn("no function definitions in {} yet", options_.functions_dir);
  if (!identities_.durable()) {
    spdlog::warn("no --lease-secret-key-file: lease secrets are this run's only; after a restart, a redelivered "
                 "message gets a new lease and its old one lasts until its time to live");
  }
  if (!options_.job_log.empty()) RCUDA_RETURN_IF_ERROR(job_log_.Open(options_.job_log));
  RCUDA_RETURN_IF_ERROR(invoker_.Start());
  started_unix_ms_ = UnixMillisNow();
  auto now = Clock::now();
  next_stats_ = now;
  next_catalog_refresh_ = now + kCatalogRefreshPeriod;
  ArmTick();
  MaybeReceive();
  return Status::Ok();
}

void Orchestrator::MaybeReceive() {
  if (receiving_ || receive_backing_off_ || shutting_down_) return;
  int waiting = 0, holding = 0;
  SteadyTime youngest_wait;
  for (const auto& [id, job] : jobs_) {
    if (job->phase == Job::Phase::kLeasing) {
      ++waiting;
      youngest_wait = std::max(youngest_wait, job->admitted);
    } else if (job->phase == Job::Phase::kInvoking || job->phase == Job::Phase::kReleasing) {
      ++holding;
    }
  }
  // Messages whose holder died come back after their visibility timeout and
  // get their leases back at once (same key and secret), while new ones
  // wait for GPUs those very leases hold. When every waiting job has waited
  // that long, take up to `prefetch` more, so that such messages are found.
  int prefetch = options_.prefetch;
  if (waiting > 0 && Clock::now() - youngest_wait > milliseconds(options_.visibility_timeout_ms)) prefetch *= 2;
  int want = std::min(prefetch - waiting, options_.max_in_flight + prefetch - options_.prefetch - waiting - holding);
  // Jobs that cannot settle (Redis away) still hold their messages: stop
  // taking more before they pile up.
  if (jobs_.size() >= size_t(2 * options_.max_in_flight + 2 * options_.prefetch)) want = 0;
  if (want <= 0) return;
  receiving_ = true;
  worker_.Receive(want, milliseconds(options_.receive_wait_ms),
                  [this](Status s, std::vector<QueueMessage> messages) { OnReceived(s, std::move(messages)); });
}

void Orchestrator::OnReceived(Status status, std::vector<QueueMessage> messages) {
  receiving_ = false;
  if (!status.ok()) {
    ++counters_.queue_errors;
    if (receive_failures_++ == 0) spdlog::warn("queue: {} (retrying)", status.message());
    receive_backing_off_ = true;
    int64_t delay = std::min<int64_t>(2000, 100 << std::min<int64_t>(receive_failures_, 4));
    receive_retry_.expires_after(milliseconds(delay));
    receive_retry_.async_wait([this](const asio::error_code& ec) {
      if (ec) return;
      receive_backing_off_ = false;
      MaybeReceive();
    });
    return;
  }
  if (receive_failures_ > 0) spdlog::info("queue: receiving again");
  receive_failures_ = 0;
  for (auto& message : messages) {
    if (shutting_down_) break;  // not admitted: comes back after its visibility timeout
    Admit(std::move(message));
  }
  MaybeReceive();
}

void Orchestrator::Admit(QueueMessage message) {
  ++counters_.messages_received;
  auto existing = jobs_.find(message.id);
  if (existing != jobs_.end() && existing->second->phase == Job::Phase::kDone) {
    jobs_.erase(existing);  // ended a moment ago (its removal is posted): this delivery is a new job
    existing = jobs_.end();
  }
  if (existing != jobs_.end()) {
    // Reclaimed by this very consumer (a heartbeat came late): the job goes
    // on; only its delivery count is news.
    ++counters_.duplicate_deliveries;
    Job& job = *existing->second;
    job.message.delivery_count = std::max(job.message.delivery_count, message.delivery_count);
    spdlog::debug("message {} delivered again while held (delivery {})", message.id, message.delivery_count);
    return;
  }
  auto owned = std::make_unique<Job>();
  Job& job = *owned;
  job.serial = next_serial_++;
  job.message = std::move(message);
  job.received_ms = UnixMillisNow();
  job.admitted = Clock::now();
  job.identity = identities_.For(job.message.id);
  job.next_extend = Clock::now() + milliseconds(options_.visibility_timeout_ms / 3);
  jobs_.emplace(job.message.id, std::move(owned));

  std::vector<S3EventRecord> records;
  Status s = ParseS3EventNotification(job.message.body, &records);
  if (!s.ok() || records.size() != 1) {
    job.dead_letter_now = true;  // no retry can make it readable
    return Fail(job, !s.ok() ? "malformed event: " + s.message()
                             : "the message holds " + std::to_string(records.size()) +
                                   " records; one per message is expected");
  }
  job.record = std::move(records[0]);
  if (!IsObjectCreatedEvent(job.record)) {
    job.dead_letter_now = true;
    return Fail(job, "not an ObjectCreated event: " + job.record.event_name);
  }
  job.function = catalog_.Find(job.record.bucket, job.record.key);
  if (!job.function) {
    // Perhaps deployed a moment ago.
    Status refreshed = catalog_.Refresh();
    if (!refreshed.ok()) spdlog::error("{}", refreshed.message());
    job.function = catalog_.Find(job.record.bucket, job.record.key);
  }
  if (!job.function) {
    return Fail(job, "no function takes s3://" + job.record.bucket + "/" + job.record.key + " (definitions in " +
                         options_.functions_dir + ")");
  }
  spdlog::debug("message {} (delivery {}): s3://{}/{} for {}", job.message.id, job.message.delivery_count,
                job.record.bucket, job.record.key, job.function->name);
  if (job.function->gpu.count == 0) return StartInvoke(job);
  RequestLease(job);
}

void Orchestrator::ArmTick() {
  tick_.expires_after(kTickPeriod);
  tick_.async_wait([this](const asio::error_code& ec) {
    if (ec || done_) return;
    Tick();
  });
}

void Orchestrator::Tick() {
  auto now = Clock::now();
  OrchestratorGauges gauges = Gauges();
  peak_invoking_ = gauges.peak_invoking;
  peak_jobs_ = gauges.peak_jobs;
  std::vector<std::pair<std::string, uint64_t>> due;
  due.reserve(jobs_.size());
  for (const auto& [id, job] : jobs_) due.emplace_back(id, job->serial);
  for (const auto& [id, serial] : due) {
    if (Job* job = Lookup(id, serial)) Heartbeats(*job, now);
  }
  if (now >= next_catalog_refresh_) {
    next_catalog_refresh_ = now + kCatalogRefreshPeriod;
    Status s = catalog_.Refresh();
    if (!s.ok()) spdlog::error("{}", s.message());
  }
  if (now >= next_stats_) {
    next_stats_ = now + milliseconds(options_.stats_interval_ms);
    WriteStats();
  }
  if (shutting_down_) {
    if (now >= drain_deadline_ && !jobs_.empty()) {
      spdlog::warn("shutdown: {} job(s) still running after {} ms; leaving them to their leases' and messages' "
                   "timeouts", jobs_.size(), options_.drain_timeout_ms);
      for (auto& [id, job] : jobs_) {
        if (job->phase != Job::Phase::kDone) End(*job, Job::Ending::kAbandoned);
      }
      jobs_.clear();
      orphan_releases_ = 0;
    }
    FinishShutdownIfIdle();
    if (done_) return;
  } else {
    MaybeReceive();
  }
  ArmTick();
}

OrchestratorGauges Orchestrator::Gauges() const {
  OrchestratorGauges g;
  for (const auto& [id, job] : jobs_) {
    if (job->phase == Job::Phase::kDone) continue;
    ++g.jobs;
    if (job->phase == Job::Phase::kLeasing) ++g.waiting_for_lease;
    else if (job->phase == Job::Phase::kInvoking) ++g.invoking;
    else ++g.settling;
    if (job->have_lease) ++g.leases_held;
  }
  g.peak_invoking = std::max(peak_invoking_, g.invoking);
  g.peak_jobs = std::max(peak_jobs_, g.jobs);
  g.ssgmd_pending = int64_t(ssgmd_.pending());
  g.ssgmd_connected = ssgmd_.connected();
  return g;
}

void Orchestrator::WriteStats() {
  job_log_.Flush();
  if (options_.stats_file.empty()) return;
  nlohmann::json stats = StatsJson(counters_, Gauges(), lease_wait_, lease_held_ms_total_, started_unix_ms_);
  stats["shutting_down"] = shutting_down_;
  Status s = WriteFileAtomically(options_.stats_file, stats.dump() + "\n");
  if (!s.ok()) spdlog::warn("stats: {}", s.message());
}

void Orchestrator::Shutdown() {
  if (shutting_down_) return;
  shutting_down_ = true;
  drain_deadline_ = Clock::now() + milliseconds(options_.drain_timeout_ms);
  int given_back = 0;
  for (auto& [id, job] : jobs_) {
    // Waiting for a lease: the message goes back to the queue (unacknowledged);
    // a grant that still comes is released (OnLeaseReply).
    if (job->phase == Job::Phase::kLeasing) {
      End(*job, Job::Ending::kAbandoned);
      ++given_back;
    }
  }
  spdlog::info("shutting down: {} message(s) given back, waiting for {} running job(s)", given_back,
               jobs_.size() - size_t(given_back));
  FinishShutdownIfIdle();
}

void Orchestrator::FinishShutdownIfIdle() {
  if (!shutting_down_ || done_) return;
  for (const auto& [id, job] : jobs_) {
    if (job->phase != Job::Phase::kDone) return;
  }
  if (orphan_releases_ > 0 && Clock::now() < drain_deadline_) return;
  done_ = true;
  WriteStats();
  job_log_.Flush();
  tick_.cancel();
  receive_retry_.cancel();
  worker_.Stop();
  invoker_.Stop();
  ssgmd_.Stop();
  spdlog::info("stopped: {} succeeded, {} dead-lettered, {} failed attempt(s)", counters_.jobs_succeeded,
               counters_.jobs_dead_lettered, counters_.jobs_failed);
  io_.stop();
}

Job* Orchestrator::Lookup(const std::string& id, uint64_t serial) {
  auto found = jobs_.find(id);
  if (found == jobs_.end() || found->second->serial != serial || found->second->phase == Job::Phase::kDone) {
    return nullptr;
  }
  return found->second.get();
}

}  // namespace rcuda::faas
