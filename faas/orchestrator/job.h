// Job: one message the orchestrator holds, from its receipt to its end
// (acknowledged, dead-lettered, or given back to the queue), with the lease
// it obtained for it and the times a benchmark needs.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "faas/events/s3_event.h"
#include "faas/function/function_definition.h"
#include "faas/orchestrator/invocation.h"
#include "faas/orchestrator/lease_identity.h"
#include "faas/queue/queue.h"

namespace rcuda::faas {

using SteadyTime = std::chrono::steady_clock::time_point;

struct Job {
  enum class Phase {
    kLeasing,    // waiting for ssgmd (a request outstanding, or backing off after busy)
    kInvoking,   // the function runs (or waits out a 429)
    kReleasing,  // done or failed; the lease is being released
    kSettling,   // the lease is gone; the message is being acknowledged or dead-lettered
    kDone,
  };
  // How the job ends, as the job log says it.
  enum class Ending { kNone, kSucceeded, kRetry, kDeadLettered, kLost, kAbandoned };

  uint64_t serial = 0;  // tells a job from a later one for the same message
  QueueMessage message;
  S3EventRecord record;
  std::shared_ptr<const FunctionDefinition> function;
  LeaseIdentity identity;
  Phase phase = Phase::kLeasing;
  Ending ending = Ending::kNone;
  std::string reason;         // why it failed
  bool dead_letter_now = false;  // a message no retry can help (malformed)

  // The message.
  SteadyTime admitted;
  SteadyTime next_extend;
  bool extend_outstanding = false;
  bool message_lost = false;  // acknowledged, dead-lettered or taken by another consumer meanwhile

  // The lease.
  bool lease_request_outstanding = false;
  SteadyTime next_lease_attempt;
  SteadyTime lease_request_sent;
  int64_t busy_backoff_ms = 0;
  int busy_replies = 0;
  bool have_lease = false;
  bool lease_lost = false;    // a renewal found it gone (expired while ssgmd was away)
  std::string lease_id;
  LeaseVariables lease_variables;
  SteadyTime lease_deadline;  // when it expires unless renewed (as seen from here)
  SteadyTime next_renew;
  bool renew_outstanding = false;
  bool release_outstanding = false;

  // The invocation.
  bool invoke_outstanding = false;
  SteadyTime next_invoke;     // after a 429
  int throttles = 0;
  std::string request_id;

  // Settling.
  bool settle_outstanding = false;
  SteadyTime next_settle;

  // Wall-clock times (unix ms; 0: did not happen) for the job log.
  int64_t received_ms = 0;
  int64_t lease_requested_ms = 0;
  int64_t lease_granted_ms = 0;
  int64_t invoke_start_ms = 0;
  int64_t invoke_end_ms = 0;
  int64_t released_ms = 0;
  int64_t settled_ms = 0;
};

const char* PhaseName(Job::Phase phase);
const char* EndingName(Job::Ending ending);

}  // namespace rcuda::faas
