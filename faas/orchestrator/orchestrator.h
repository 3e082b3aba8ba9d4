// Orchestrator: rcuda's GPU-aware contention manager (the paper's orchGPU).
// It takes S3 event messages from the queue, finds each one's function,
// obtains a GPU lease for it from ssgmd, invokes the function (Lambda's
// Invoke API, rcuda-fn's or Lambda's) with the lease's RCUDA_* variables
// and token, and then releases the lease and acknowledges the message:
//
//   receive ─> lease (ssgmd: blocking with a deadline, or not with backoff)
//          ─> invoke (the lease renewed, the message kept invisible meanwhile)
//          ─> release ─> ack                   (success)
//          ─> release ─> give back / dead-letter (failure, timeout; dead letter
//                                                 at the max_attempts-th delivery)
//
// Everything runs on one Asio event loop: many jobs in flight, none with a
// thread of its own. ssgmd's replies arrive on the loop (SsgmdClient), the
// invocations run on libcurl's multi interface (HttpInvoker's one thread),
// Redis's blocking calls on QueueWorker's two threads; one timer (the tick)
// drives heartbeats, backoffs and retries.
//
// Messages are taken only as slots are likely: at most `prefetch` wait for a
// lease and at most `max_in_flight` hold one, the rest stay in the queue.
// A redelivered message has the same lease identity (lease_identity.h), so
// it never holds two leases. docs/faas.md, "Orchestrator" and "Reliability".
#pragma once

#include <asio.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "common/status.h"
#include "faas/orchestrator/function_catalog.h"
#include "faas/orchestrator/http_invoker.h"
#include "faas/orchestrator/job.h"
#include "faas/orchestrator/lease_identity.h"
#include "faas/orchestrator/orchestrator_stats.h"
#include "faas/orchestrator/queue_worker.h"
#include "faas/orchestrator/ssgmd_client.h"
#include "faas/queue/queue.h"

namespace rcuda::faas {

struct OrchestratorOptions {
  std::string functions_dir;

  // Intake.
  int max_in_flight = 64;            // jobs holding a lease (invocations at once)
  int prefetch = 8;                  // messages held waiting for a lease
  int64_t receive_wait_ms = 1000;    // a Receive waits this long for messages
  int64_t visibility_timeout_ms = 30000;  // the queue's; heartbeats every third of it
  int max_attempts = 3;              // deliveries before a failing message is dead-lettered

  // Leases.
  bool blocking_leases = true;       // false: non-blocking requests, backing off when busy
  int64_t lease_wait_ms = 20000;     // blocking: one request's deadline at ssgmd
  int64_t lease_ttl_ms = 60000;      // renewed every third of it
  int64_t busy_backoff_min_ms = 50;  // non-blocking: first delay after busy, doubling
  int64_t busy_backoff_max_ms = 2000;

  // Invocations.
  std::string invoke_endpoint = "http://127.0.0.1:9000";
  std::string invoke_key;            // rcuda-fn's invoke key: "Authorization: Bearer <key>"
  std::string aws_sigv4;             // AWS Lambda: "aws:amz:<region>:lambda" (libcurl signs)
  std::string aws_credentials;       // "KEY:SECRET"
  std::string aws_session_token;     // sent as X-Amz-Security-Token
  int64_t invoke_margin_ms = 30000;  // beyond the function's timeout
  int64_t throttle_backoff_ms = 1000;  // after a 429 without Retry-After, or no connection
  bool reuse_connections = false;
  size_t max_response_bytes = (6u << 20) + (64u << 10);

  // Records.
  std::string stats_file;
  int64_t stats_interval_ms = 1000;
  std::string job_log;

  // Shutdown: how long running invocations may take to finish.
  int64_t drain_timeout_ms = 30000;
};

// Checks the options against each other; the message names the option.
Status ValidateOptions(const OrchestratorOptions& options);

class Orchestrator {
 public:
  // `queue` must outlive the orchestrator.
  Orchestrator(asio::io_context& io, OrchestratorOptions options, Queue* queue, SsgmdClientOptions ssgmd,
               const std::string& lease_secret_key, const std::string& queue_name);
  ~Orchestrator();

  Status Start();
  // Stops taking messages; jobs still waiting for a lease are given back,
  // running ones finish (up to drain_timeout_ms); then the loop's work ends.
  void Shutdown();
  bool done() const { return done_; }

  const OrchestratorCounters& counters() const { return counters_; }

 private:
  // Intake and the tick (orchestrator.cc).
  void MaybeReceive();
  void OnReceived(Status status, std::vector<QueueMessage> messages);
  void Admit(QueueMessage message);
  void Tick();
  void ArmTick();
  void WriteStats();
  OrchestratorGauges Gauges() const;
  void FinishShutdownIfIdle();

  // One job's steps (orchestrator_job.cc).
  void RequestLease(Job& job);
  void OnLeaseReply(const std::string& id, uint64_t serial, LeaseIdentity identity, int64_t wait_ms,
                    const sched::Json& reply);
  void StartInvoke(Job& job);
  void OnInvoked(Job& job, HttpResponse response);
  void Fail(Job& job, const std::string& reason);
  void Finish(Job& job);
  void Release(Job& job);
  void Settle(Job& job);
  void Extend(Job& job);
  void Renew(Job& job);
  void End(Job& job, Job::Ending ending);
  void ReleaseOrphan(const std::string& lease, const LeaseIdentity& identity);
  void Heartbeats(Job& job, SteadyTime now);
  Job* Lookup(const std::string& id, uint64_t serial);
  int64_t LeaseTtlMs(const Job& job) const;

  asio::io_context& io_;
  OrchestratorOptions options_;
  Queue* queue_;
  LeaseIdentityMaker identities_;
  FunctionCatalog catalog_;
  SsgmdClient ssgmd_;
  HttpInvoker invoker_;
  QueueWorker worker_;
  asio::steady_timer tick_;
  asio::steady_timer receive_retry_;

  std::map<std::string, std::unique_ptr<Job>> jobs_;  // by message id
  uint64_t next_serial_ = 1;
  int orphan_releases_ = 0;       // releases of leases no job holds any more
  bool receiving_ = false;
  bool receive_backing_off_ = false;
  int64_t receive_failures_ = 0;
  bool shutting_down_ = false;
  bool done_ = false;
  SteadyTime drain_deadline_;
  SteadyTime next_stats_;
  SteadyTime next_catalog_refresh_;

  OrchestratorCounters counters_;
  WaitSamples lease_wait_;
  int64_t lease_held_ms_total_ = 0;
  int64_t peak_invoking_ = 0;
  int64_t peak_jobs_ = 0;
  int64_t started_unix_ms_ = 0;
  JobLog job_log_;
};

}  // namespace rcuda::faas
