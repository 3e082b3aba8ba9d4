// One job's steps: lease, invoke, release, settle; and its heartbeats.
#include <spdlog/spdlog.h>

#include <random>

#include <nlohmann/json.hpp>

#include "faas/orchestrator/orchestrator.h"
#include "scheduler/ssgm_output.h"
#include "scheduler/wire.h"

namespace rcuda::faas {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

int64_t Jittered(int64_t ms) {
  static thread_local std::minstd_rand random(std::random_device{}());
  return ms / 2 + int64_t(random() % uint64_t(std::max<int64_t>(1, ms)));
}

int ErrorOf(const sched::Json& reply) {
  const sched::Json* error = reply.Find("error");
  // Anything but the integer 0 is a refusal: orchGPU compared SSGM_ERROR
  // with the wrong value and took refusals for grants.
  return error && error->is_integer() ? int(error->AsInt()) : sched::kSsgmBadRequest;
}

std::string MessageOf(const sched::Json& reply) {
  const sched::Json* message = reply.Find("message");
  return message && message->is_string() ? sched::Printable(message->AsString()) : "(no message)";
}

std::string Where(const Job& job) {
  return job.record.bucket.empty() ? "message " + job.message.id
                                   : "message " + job.message.id + " (s3://" + job.record.bucket + "/" +
                                         job.record.key + ")";
}

}  // namespace

int64_t Orchestrator::LeaseTtlMs(const Job& job) const {
  // The token the function gets carries the lease's expiry at the grant and
  // is checked by rcuda-server when a session starts: it must last as long
  // as the function may run.
  int64_t run = int64_t(job.function->timeout_s) * 1000 + options_.invoke_margin_ms;
  return std::max(options_.lease_ttl_ms, run);
}

void Orchestrator::RequestLease(Job& job) {
  job.phase = Job::Phase::kLeasing;
  sched::Json message = sched::Json::Object();
  message.Set("op", "request");
  message.Set("gpus", int64_t(job.function->gpu.count));
  message.Set("mem", job.function->gpu.memory_bytes);
  int64_t wait_ms = options_.blocking_leases ? options_.lease_wait_ms : 0;
  message.Set("wait_ms", wait_ms);
  message.Set("ttl_ms", LeaseTtlMs(job));
  message.Set("key", job.identity.key);
  message.Set("secret", job.identity.secret);
  if (job.lease_requested_ms == 0) job.lease_requested_ms = UnixMillisNow();
  job.lease_request_outstanding = true;
  job.lease_request_sent = Clock::now();
  ++counters_.lease_requests;
  ssgmd_.Call(std::move(message), wait_ms,
              [this, id = job.message.id, serial = job.serial, identity = job.identity,
               wait_ms](const sched::Json& reply) { OnLeaseReply(id, serial, identity, wait_ms, reply); });
}

void Orchestrator::OnLeaseReply(const std::string& id, uint64_t serial, LeaseIdentity identity, int64_t wait_ms,
                                const sched::Json& reply) {
  int error = ErrorOf(reply);
  Job* job = Lookup(id, serial);
  if (!job || job->phase != Job::Phase::kLeasing) {
    // The job ended meanwhile (its message was lost, or shutdown): a lease
    // that came anyway is released now rather than at its time to live.
    const sched::Json* lease = reply.Find("lease");
    if (error == sched::kSsgmOk && lease && lease->is_string()) ReleaseOrphan(lease->AsString(), identity);
    return;
  }
  job->lease_request_outstanding = false;
  auto now = Clock::now();
  if (error == sched::kSsgmBusy) {
    ++counters_.lease_busy;
    ++job->busy_replies;
    bool answered_early = now - job->lease_request_sent < milliseconds(wait_ms / 2);
    if (options_.blocking_leases && !answered_early) {
      job->next_lease_attempt = now;  // the wait ran out: wait again
    } else {
      job->busy_backoff_ms = job->busy_backoff_ms == 0
                                 ? options_.busy_backoff_min_ms
                                 : std::min(job->busy_backoff_ms * 2, options_.busy_backoff_max_ms);
      job->next_lease_attempt = now + milliseconds(Jittered(job->busy_backoff_ms));
    }
    return;
  }
  if (error != sched::kSsgmOk) {
    ++counters_.lease_refused;
    return Fail(*job, "ssgmd refused the lease request (SSGM_ERROR=" + std::to_string(error) + "): " +
                          MessageOf(reply));
  }
  sched::SsgmOutput grant = sched::LeaseOutput(reply, identity.secret);
  const sched::Json* lease = reply.Find("lease");
  if (grant.error != sched::kSsgmOk) {
    if (lease && lease->is_string() && sched::IsValidLeaseId(lease->AsString())) {
      ReleaseOrphan(lease->AsString(), identity);
    }
    ++counters_.lease_refused;
    return Fail(*job, "ssgmd's grant is unusable: " + grant.message);
  }
  ++counters_.leases_granted;
  job->have_lease = true;
  job->lease_variables.clear();
  for (const auto& [name, value] : grant.variables) {
    if (name == "SSGM_JOB_ID") job->lease_id = value;
    // The function gets the devices and the token, never the secret.
    if (name == "SSGM_JOB_ID" || name.rfind("RCUDA_", 0) == 0) job->lease_variables.emplace_back(name, value);
  }
  job->lease_granted_ms = UnixMillisNow();
  lease_wait_.Add(job->lease_granted_ms - job->lease_requested_ms);
  job->lease_deadline = now + milliseconds(LeaseTtlMs(*job));
  job->next_renew = now + milliseconds(LeaseTtlMs(*job) / 3);
  job->busy_backoff_ms = 0;
  int devices = 0;
  for (const auto& [name, value] : job->lease_variables) {
    if (name.rfind("RCUDA_DEVICE_", 0) == 0 && name != "RCUDA_DEVICE_COUNT") ++devices;
  }
  if (devices != job->function->gpu.count) {
    return Fail(*job, "ssgmd granted " + std::to_string(devices) + " GPU(s) for a request of " +
                          std::to_string(job->function->gpu.count));
  }
  spdlog::debug("{}: lease {} after {} ms", Where(*job), job->lease_id,
                job->lease_granted_ms - job->lease_requested_ms);
  StartInvoke(*job);
  MaybeReceive();
}

void Orchestrator::StartInvoke(Job& job) {
  job.phase = Job::Phase::kInvoking;
  HttpRequest request;
  Status s = BuildInvokeBody(job.message.body, job.lease_variables, &request.body);
  if (!s.ok()) {
    job.dead_letter_now = true;
    return Fail(job, s.message());
  }
  request.url = InvokeUrl(options_.invoke_endpoint, job.function->name);
  request.headers = {"Content-Type: application/json", "X-Amz-Invocation-Type: RequestResponse"};
  if (!options_.invoke_key.empty()) request.headers.push_back("Authorization: Bearer " + options_.invoke_key);
  if (!options_.aws_session_token.empty()) {
    request.headers.push_back("X-Amz-Security-Token: " + options_.aws_session_token);
  }
  request.aws_sigv4 = options_.aws_sigv4;
  request.aws_credentials = options_.aws_credentials;
  request.timeout_ms = int64_t(job.function->timeout_s) * 1000 + options_.invoke_margin_ms;
  request.reuse_connection = options_.reuse_connections;
  if (job.invoke_start_ms == 0) ++counters_.jobs_started;
  job.invoke_start_ms = UnixMillisNow();
  job.invoke_outstanding = true;
  invoker_.Post(std::move(request), [this, id = job.message.id, serial = job.serial](HttpResponse response) {
    if (Job* current = Lookup(id, serial)) {
      current->invoke_outstanding = false;
      OnInvoked(*current, std::move(response));
    }
  });
}

void Orchestrator::OnInvoked(Job& job, HttpResponse response) {
  InvokeVerdict verdict = JudgeInvokeResponse(response);
  if (!verdict.request_id.empty()) job.request_id = verdict.request_id;
  if (verdict.kind == InvokeVerdict::Kind::kThrottled || verdict.kind == InvokeVerdict::Kind::kNotReached) {
    // Nothing ran: no attempt is spent. The tick invokes again; lease and
    // message stay ours meanwhile.
    ++job.throttles;
    if (verdict.kind == InvokeVerdict::Kind::kThrottled) {
      ++counters_.invoke_throttled;
    } else if (counters_.invoke_unreachable++ % 100 == 0) {
      spdlog::warn("{}: {} (trying again)", Where(job), verdict.reason);
    }
    int64_t delay = verdict.retry_after_ms > 0 ? verdict.retry_after_ms : options_.throttle_backoff_ms;
    job.next_invoke = Clock::now() + milliseconds(Jittered(delay));
    return;
  }
  job.invoke_end_ms = UnixMillisNow();
  if (verdict.kind == InvokeVerdict::Kind::kSucceeded) {
    ++counters_.jobs_succeeded;
    job.ending = Job::Ending::kSucceeded;
    spdlog::debug("{}: succeeded in {} ms", Where(job), job.invoke_end_ms - job.invoke_start_ms);
    return Finish(job);
  }
  Fail(job, verdict.reason);
}

void Orchestrator::Fail(Job& job, const std::string& reason) {
  ++counters_.jobs_failed;
  job.reason = reason;
  job.ending = Job::Ending::kRetry;
  spdlog::warn("{} (delivery {} of at most {}): {}", Where(job), job.message.delivery_count, options_.max_attempts,
               reason);
  Finish(job);
}

void Orchestrator::Finish(Job& job) {
  job.phase = Job::Phase::kReleasing;
  if (job.have_lease) return Release(job);
  Settle(job);
}

void Orchestrator::Release(Job& job) {
  sched::Json message = sched::Json::Object();
  message.Set("op", "release");
  message.Set("lease", job.lease_id);
  message.Set("secret", job.identity.secret);
  job.release_outstanding = true;
  ssgmd_.Call(std::move(message), 0, [this, id = job.message.id, serial = job.serial](const sched::Json& reply) {
    Job* current = Lookup(id, serial);
    if (!current || !current->release_outstanding) return;  // gave up waiting (the lease expired meanwhile)
    current->release_outstanding = false;
    int error = ErrorOf(reply);
    if (error == sched::kSsgmOk) {
      ++counters_.leases_released;
    } else {
      spdlog::error("ssgmd refused to release lease {} (SSGM_ERROR={}): {}; it ends at its time to live",
                    current->lease_id, error, MessageOf(reply));
    }
    current->have_lease = false;
    current->released_ms = UnixMillisNow();
    lease_held_ms_total_ += current->released_ms - current->lease_granted_ms;
    Settle(*current);
  });
}

void Orchestrator::ReleaseOrphan(const std::string& lease, const LeaseIdentity& identity) {
  sched::Json message = sched::Json::Object();
  message.Set("op", "release");
  message.Set("lease", lease);
  message.Set("secret", identity.secret);
  ++orphan_releases_;
  ssgmd_.Call(std::move(message), 0, [this, lease](const sched::Json& reply) {
    --orphan_releases_;
    if (ErrorOf(reply) == sched::kSsgmOk) ++counters_.leases_released;
    else spdlog::error("ssgmd refused to release lease {}: {}", lease, MessageOf(reply));
    FinishShutdownIfIdle();
  });
}

void Orchestrator::Settle(Job& job) {
  job.phase = Job::Phase::kSettling;
  if (job.message_lost) return End(job, Job::Ending::kLost);
  bool succeeded = job.ending == Job::Ending::kSucceeded;
  bool last_attempt = job.dead_letter_now || job.message.delivery_count >= options_.max_attempts;
  if (!succeeded && !last_attempt) return End(job, Job::Ending::kRetry);  // back to the queue at its timeout
  auto done = [this, id = job.message.id, serial = job.serial, succeeded](Status s) {
    Job* current = Lookup(id, serial);
    if (!current) return;
    current->settle_outstanding = false;
    if (!s.ok()) {
      ++counters_.queue_errors;
      spdlog::warn("{}: {} failed: {} (retrying)", Where(*current), succeeded ? "ack" : "dead letter", s.message());
      current->next_settle = Clock::now() + milliseconds(250);
      return;
    }
    current->settled_ms = UnixMillisNow();
    End(*current, succeeded ? Job::Ending::kSucceeded : Job::Ending::kDeadLettered);
  };
  job.settle_outstanding = true;
  if (succeeded) {
    worker_.Ack(job.message.id, std::move(done));
  } else {
    std::string reason = job.reason + " [delivery " + std::to_string(job.message.delivery_count) + " of at most " +
                         std::to_string(options_.max_attempts) + "]";
    worker_.DeadLetter(job.message, reason, std::move(done));
  }
}

void Orchestrator::End(Job& job, Job::Ending ending) {
  job.ending = ending;
  job.phase = Job::Phase::kDone;
  if (job.settled_ms == 0) job.settled_ms = UnixMillisNow();
  switch (ending) {
    case Job::Ending::kRetry: ++counters_.jobs_retried; break;
    case Job::Ending::kDeadLettered:
      ++counters_.jobs_dead_lettered;
      spdlog::warn("{}: dead-lettered: {}", Where(job), job.reason);
      break;
    case Job::Ending::kAbandoned: ++counters_.jobs_abandoned; break;
    default: break;
  }
  job_log_.Write(JobRecordJson(job));
  // Removed once the callers up the stack are done with it.
  asio::post(io_, [this, id = job.message.id, serial = job.serial] {
    auto found = jobs_.find(id);
    if (found != jobs_.end() && found->second->serial == serial) jobs_.erase(found);
    if (shutting_down_) FinishShutdownIfIdle();
    else MaybeReceive();
  });
}

void Orchestrator::Extend(Job& job) {
  job.extend_outstanding = true;
  worker_.Extend(job.message.id, [this, id = job.message.id, serial = job.serial](Status s) {
    Job* current = Lookup(id, serial);
    if (!current) return;
    current->extend_outstanding = false;
    auto now = Clock::now();
    if (s.ok()) {
      current->next_extend = now + milliseconds(options_.visibility_timeout_ms / 3);
      return;
    }
    if (s.ToCudaError() == kCudaErrorInvalidValue) {
      // Acknowledged, dead-lettered or delivered to another consumer: not
      // ours any more. A running function finishes and its lease is
      // released; the message is not touched again.
      ++counters_.messages_lost;
      current->message_lost = true;
      spdlog::warn("{}: {}", Where(*current), s.message());
      if (current->phase == Job::Phase::kLeasing) End(*current, Job::Ending::kLost);
      return;
    }
    ++counters_.queue_errors;
    current->next_extend = now + milliseconds(250);
  });
}

void Orchestrator::Renew(Job& job) {
  sched::Json message = sched::Json::Object();
  message.Set("op", "renew");
  message.Set("lease", job.lease_id);
  message.Set("secret", job.identity.secret);
  message.Set("ttl_ms", LeaseTtlMs(job));
  job.renew_outstanding = true;
  ssgmd_.Call(std::move(message), 0, [this, id = job.message.id, serial = job.serial](const sched::Json& reply) {
    Job* current = Lookup(id, serial);
    if (!current) return;
    current->renew_outstanding = false;
    auto now = Clock::now();
    if (ErrorOf(reply) == sched::kSsgmOk) {
      ++counters_.lease_renewals;
      current->lease_deadline = now + milliseconds(LeaseTtlMs(*current));
      current->next_renew = now + milliseconds(LeaseTtlMs(*current) / 3);
      return;
    }
    // Unknown: it expired while ssgmd could not be reached. The function
    // keeps running (its token is good until it ends); there is nothing to
    // renew any more.
    ++counters_.leases_lost;
    current->lease_lost = true;
    spdlog::warn("{}: lease {} is gone at ssgmd: {}", Where(*current), current->lease_id, MessageOf(reply));
  });
}

void Orchestrator::Heartbeats(Job& job, SteadyTime now) {
  if (!job.message_lost && !job.extend_outstanding && now >= job.next_extend) Extend(job);
  if (job.phase == Job::Phase::kDone) return;  // Extend may end a job waiting for its lease
  bool running = job.phase == Job::Phase::kInvoking;
  if (running && job.have_lease && !job.lease_lost && !job.renew_outstanding && now >= job.next_renew) Renew(job);
  if (job.phase == Job::Phase::kLeasing && !job.lease_request_outstanding && now >= job.next_lease_attempt) {
    RequestLease(job);
  } else if (running && !job.invoke_outstanding && now >= job.next_invoke) {
    StartInvoke(job);  // after a 429
  } else if (job.phase == Job::Phase::kReleasing && job.release_outstanding &&
             now > job.lease_deadline + milliseconds(1000)) {
    // ssgmd has been away longer than the lease lives: it has ended by
    // itself, and the message need not wait for the release's answer.
    spdlog::warn("{}: lease {} expired while ssgmd was away", Where(job), job.lease_id);
    job.release_outstanding = false;
    job.have_lease = false;
    job.released_ms = UnixMillisNow();
    Settle(job);
  } else if (job.phase == Job::Phase::kSettling && !job.settle_outstanding && now >= job.next_settle) {
    Settle(job);
  }
}

}  // namespace rcuda::faas
