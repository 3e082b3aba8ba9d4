// What rcuda-orchestrator counts and records, for operators and benchmarks:
//   - counters and gauges, written as one JSON object to the stats file
//     (rewritten atomically every interval and at exit);
//   - one JSON line per job that ended (the job log), with the times of its
//     steps: message received, lease requested and granted, function started
//     and ended, lease released, message settled; with the event's own time
//     (the upload), a benchmark computes upload-to-start and upload-to-output
//     latencies, and from the lease times the slots' utilisation.
// docs/faas.md, "Orchestrator", lists every field.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/status.h"
#include "faas/orchestrator/job.h"

namespace rcuda::faas {

struct OrchestratorCounters {
  int64_t messages_received = 0;
  int64_t duplicate_deliveries = 0;  // a message delivered again while held here (ignored)
  int64_t jobs_started = 0;          // invocations started, one per delivery (tries after a 429 not counted)
  int64_t jobs_succeeded = 0;
  int64_t jobs_failed = 0;           // attempts that failed (each may be retried)
  int64_t jobs_retried = 0;          // failed attempts given back to the queue
  int64_t jobs_dead_lettered = 0;
  int64_t messages_lost = 0;         // taken away while held (visibility expired, acknowledged elsewhere)
  int64_t jobs_abandoned = 0;        // given back at shutdown
  int64_t lease_requests = 0;
  int64_t leases_granted = 0;
  int64_t lease_busy = 0;
  int64_t lease_refused = 0;
  int64_t leases_lost = 0;
  int64_t lease_renewals = 0;
  int64_t leases_released = 0;
  int64_t invoke_throttled = 0;     // 429s
  int64_t invoke_unreachable = 0;   // no connection to the runtime
  int64_t queue_errors = 0;
};

struct OrchestratorGauges {
  int64_t jobs = 0;            // messages held
  int64_t waiting_for_lease = 0;
  int64_t invoking = 0;
  int64_t settling = 0;        // releasing, acknowledging or dead-lettering
  int64_t leases_held = 0;
  int64_t ssgmd_pending = 0;
  bool ssgmd_connected = false;
  int64_t peak_invoking = 0;   // the most invocations at once so far
  int64_t peak_jobs = 0;       // the most messages held at once so far
};

// Lease waits (request to grant), in ms: a bounded sample for percentiles.
class WaitSamples {
 public:
  void Add(int64_t ms);
  nlohmann::json Summary() const;

 private:
  std::vector<int64_t> samples_;  // the last kMax
  size_t next_ = 0;
  int64_t count_ = 0;
  int64_t max_ = 0;
  int64_t total_ = 0;
  static constexpr size_t kMax = 65536;
};

nlohmann::json StatsJson(const OrchestratorCounters& counters, const OrchestratorGauges& gauges,
                         const WaitSamples& lease_wait, int64_t lease_held_ms_total, int64_t started_unix_ms);

// The job log's line for a job that ended.
nlohmann::json JobRecordJson(const Job& job);

// Writes `text` to `path` through a temporary file and a rename.
Status WriteFileAtomically(const std::string& path, const std::string& text);

// Appends lines to the job log (opened once, line-buffered by hand).
class JobLog {
 public:
  ~JobLog();
  Status Open(const std::string& path);
  void Write(const nlohmann::json& record);
  void Flush();

 private:
  std::FILE* file_ = nullptr;
};

int64_t UnixMillisNow();

}  // namespace rcuda::faas
