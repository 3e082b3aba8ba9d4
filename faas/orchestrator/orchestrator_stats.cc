#include "faas/orchestrator/orchestrator_stats.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include <nlohmann/json.hpp>

namespace rcuda::faas {

using nlohmann::json;

const char* PhaseName(Job::Phase phase) {
  switch (phase) {
    case Job::Phase::kLeasing: return "leasing";
    case Job::Phase::kInvoking: return "invoking";
    case Job::Phase::kReleasing: return "releasing";
    case Job::Phase::kSettling: return "settling";
    case Job::Phase::kDone: return "done";
  }
  return "?";
}

const char* EndingName(Job::Ending ending) {
  switch (ending) {
    case Job::Ending::kNone: return "none";
    case Job::Ending::kSucceeded: return "succeeded";
    case Job::Ending::kRetry: return "retry";
    case Job::Ending::kDeadLettered: return "dead_lettered";
    case Job::Ending::kLost: return "lost";
    case Job::Ending::kAbandoned: return "abandoned";
  }
  return "?";
}

int64_t UnixMillisNow() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void WaitSamples::Add(int64_t ms) {
  if (samples_.size() < kMax) {
    samples_.push_back(ms);
  } else {
    samples_[next_] = ms;
    next_ = (next_ + 1) % kMax;
  }
  ++count_;
  total_ += ms;
  max_ = std::max(max_, ms);
}

json WaitSamples::Summary() const {
  json summary = {{"count", count_}, {"max", max_}, {"mean", count_ ? total_ / count_ : 0}};
  if (samples_.empty()) {
    summary["p50"] = 0;
    summary["p99"] = 0;
    return summary;
  }
  std::vector<int64_t> sorted = samples_;
  std::sort(sorted.begin(), sorted.end());
  auto at = [&](double q) { return sorted[std::min(sorted.size() - 1, size_t(q * double(sorted.size())))]; };
  summary["p50"] = at(0.50);
  summary["p99"] = at(0.99);
  return summary;
}

json StatsJson(const OrchestratorCounters& c, const OrchestratorGauges& g, const WaitSamples& lease_wait,
               int64_t lease_held_ms_total, int64_t started_unix_ms) {
  int64_t now = UnixMillisNow();
  return json{
      {"time_unix_ms", now},
      {"started_unix_ms", started_unix_ms},
      {"counters",
       {{"messages_received", c.messages_received},
        {"duplicate_deliveries", c.duplicate_deliveries},
        {"jobs_started", c.jobs_started},
        {"jobs_succeeded", c.jobs_succeeded},
        {"jobs_failed", c.jobs_failed},
        {"jobs_retried", c.jobs_retried},
        {"jobs_dead_lettered", c.jobs_dead_lettered},
        {"messages_lost", c.messages_lost},
        {"jobs_abandoned", c.jobs_abandoned},
        {"lease_requests", c.lease_requests},
        {"leases_granted", c.leases_granted},
        {"lease_busy", c.lease_busy},
        {"lease_refused", c.lease_refused},
        {"leases_lost", c.leases_lost},
        {"lease_renewals", c.lease_renewals},
        {"leases_released", c.leases_released},
        {"invoke_throttled", c.invoke_throttled},
        {"invoke_unreachable", c.invoke_unreachable},
        {"queue_errors", c.queue_errors}}},
      {"in_flight",
       {{"jobs", g.jobs},
        {"waiting_for_lease", g.waiting_for_lease},
        {"invoking", g.invoking},
        {"settling", g.settling},
        {"leases_held", g.leases_held},
        {"peak_invoking", g.peak_invoking},
        {"peak_jobs", g.peak_jobs}}},
      {"ssgmd", {{"connected", g.ssgmd_connected}, {"pending_requests", g.ssgmd_pending}}},
      {"lease_wait_ms", lease_wait.Summary()},
      {"lease_held_ms_total", lease_held_ms_total},
  };
}

json JobRecordJson(const Job& job) {
  json record = {{"message_id", job.message.id},
                 {"delivery", job.message.delivery_count},
                 {"bucket", job.record.bucket},
                 {"key", job.record.key},
                 {"event_time", job.record.event_time},
                 {"function", job.function ? json(job.function->name) : json(nullptr)},
                 {"outcome", EndingName(job.ending)},
                 {"received_ms", job.received_ms},
                 {"lease_requested_ms", job.lease_requested_ms},
                 {"lease_granted_ms", job.lease_granted_ms},
                 {"invoke_start_ms", job.invoke_start_ms},
                 {"invoke_end_ms", job.invoke_end_ms},
                 {"released_ms", job.released_ms},
                 {"settled_ms", job.settled_ms},
                 {"lease_busy_replies", job.busy_replies},
                 {"throttles", job.throttles}};
  if (!job.lease_id.empty()) record["lease"] = job.lease_id;
  if (!job.request_id.empty()) record["request_id"] = job.request_id;
  if (!job.reason.empty()) record["reason"] = job.reason;
  return record;
}

Status WriteFileAtomically(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IoError("create " + tmp + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += size_t(n);
  }
  close(fd);
  if (done != text.size() || rename(tmp.c_str(), path.c_str()) != 0) {
    unlink(tmp.c_str());
    return Status::IoError("write " + path + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

JobLog::~JobLog() {
  if (file_) std::fclose(file_);
}

Status JobLog::Open(const std::string& path) {
  file_ = std::fopen(path.c_str(), "ae");
  if (!file_) return Status::IoError("open " + path + ": " + std::strerror(errno));
  return Status::Ok();
}

void JobLog::Write(const json& record) {
  if (!file_) return;
  std::string line = record.dump(-1, ' ', false, json::error_handler_t::replace);
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), file_);
  std::fflush(file_);  // a killed orchestrator's log keeps what it did
}

void JobLog::Flush() {
  if (file_) std::fflush(file_);
}

}  // namespace rcuda::faas
