#include "bench/faas/serial_orchestrator.h"

#include <chrono>
#include <cstdio>
#include <fstream>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "faas/events/s3_event.h"
#include "faas/function/fdl_parser.h"
#include "faas/orchestrator/invocation.h"
#include "faas/orchestrator/lease_identity.h"
#include "scheduler/ssgm_output.h"
#include "scheduler/wire.h"

namespace rcuda::faas_bench {

namespace {

using Clock = std::chrono::steady_clock;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct JobTimes {
  int64_t received = 0, lease_requested = 0, lease_granted = 0, invoke_start = 0, invoke_end = 0, released = 0,
          settled = 0;
};

// Asks until granted: a blocking request waits at ssgmd up to 20 s and is
// sent again (same key) when that runs out.
Status Lease(const SerialOptions& o, const faas::FunctionDefinition& function, const faas::LeaseIdentity& identity,
             faas::LeaseVariables* variables, std::string* lease_id) {
  const int64_t wait_ms = 20'000;
  const int64_t ttl_ms = int64_t(function.timeout_s) * 1000 + 30'000;
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto make = [&](int64_t elapsed) {
      sched::Json message = sched::Json::Object();
      message.Set("op", "request");
      message.Set("gpus", int64_t(function.gpu.count));
      message.Set("mem", function.gpu.memory_bytes);
      message.Set("wait_ms", std::max<int64_t>(1, wait_ms - elapsed));
      message.Set("ttl_ms", ttl_ms);
      message.Set("key", identity.key);
      message.Set("secret", identity.secret);
      return message;
    };
    sched::Json reply;
    Status s = sched::CallSsgmd(o.ssgmd, make, wait_ms, &reply);
    if (!s.ok()) return s;
    sched::SsgmOutput grant = sched::LeaseOutput(reply, identity.secret);
    if (grant.error == sched::kSsgmBusy) continue;
    if (grant.error != sched::kSsgmOk) return Status::Unavailable("ssgmd refused the lease: " + grant.message);
    variables->clear();
    for (const auto& [name, value] : grant.variables) {
      if (name == "SSGM_JOB_ID") *lease_id = value;
      if (name == "SSGM_JOB_ID" || name.rfind("RCUDA_", 0) == 0) variables->emplace_back(name, value);
    }
    return Status::Ok();
  }
  return Status::Unavailable("no lease after 100 waits");
}

Status Release(const SerialOptions& o, const std::string& lease_id, const std::string& secret) {
  auto make = [&](int64_t) {
    sched::Json message = sched::Json::Object();
    message.Set("op", "release");
    message.Set("lease", lease_id);
    message.Set("secret", secret);
    return message;
  };
  sched::Json reply;
  Status s = sched::CallSsgmd(o.ssgmd, make, 0, &reply);
  if (!s.ok()) return s;
  sched::SsgmOutput out = sched::ReleaseOutput(reply);
  return out.error == sched::kSsgmOk ? Status::Ok() : Status::Unavailable("release: " + out.message);
}

faas::InvokeVerdict Invoke(const SerialOptions& o, const faas::FunctionDefinition& function, const std::string& body) {
  httplib::Client client(o.invoke_endpoint);
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(function.timeout_s + 30, 0);
  std::string url = faas::InvokeUrl(o.invoke_endpoint, function.name);
  std::string path = url.substr(o.invoke_endpoint.size());
  httplib::Headers headers = {{"X-Amz-Invocation-Type", "RequestResponse"}};
  auto result = client.Post(path, headers, body, "application/json");
  faas::HttpResponse response;
  if (!result) {
    response.error = httplib::to_string(result.error());
    response.not_connected = result.error() == httplib::Error::Connection;
  } else {
    response.status = result->status;
    for (const auto& [name, value] : result->headers) {
      std::string lower = name;
      for (auto& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
      response.headers[lower] = value;
    }
    response.body = result->body;
  }
  return faas::JudgeInvokeResponse(response);
}

void LogJob(std::ofstream& log, const faas::QueueMessage& message, const std::string& key, const std::string& outcome,
            const std::string& reason, const JobTimes& t) {
  nlohmann::json line = {{"message_id", message.id},       {"delivery", message.delivery_count},
                         {"key", key},                     {"outcome", outcome},
                         {"received_ms", t.received},      {"lease_requested_ms", t.lease_requested},
                         {"lease_granted_ms", t.lease_granted}, {"invoke_start_ms", t.invoke_start},
                         {"invoke_end_ms", t.invoke_end},  {"released_ms", t.released},
                         {"settled_ms", t.settled}};
  if (!reason.empty()) line["reason"] = reason;
  log << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  log.flush();
}

}  // namespace

Status RunSerial(const SerialOptions& o, SerialSummary* summary) {
  faas::FdlDocument document;
  Status s = faas::LoadFdlFile(o.function_file, &document);
  if (!s.ok()) return s;
  if (document.functions.empty()) return Status::InvalidValue(o.function_file + ": no function");
  const faas::FunctionDefinition& function = document.functions.front();
  std::unique_ptr<faas::RedisStreamsQueue> queue;
  s = faas::RedisStreamsQueue::Open(o.queue, &queue);
  if (!s.ok()) return s;
  std::ofstream log(o.job_log, std::ios::app);
  if (!log) return Status::IoError("cannot write " + o.job_log);
  faas::LeaseIdentityMaker identities("", o.queue.stream);  // a random key: this run's leases only

  auto deadline = Clock::now() + std::chrono::milliseconds(o.give_up_ms);
  while (summary->succeeded < o.count) {
    if (Clock::now() > deadline) return Status::Unavailable("serial: not done in time");
    std::vector<faas::QueueMessage> messages;
    s = queue->Receive(1, std::chrono::milliseconds(500), &messages);
    if (!s.ok()) return s;
    if (messages.empty()) continue;
    const faas::QueueMessage& message = messages.front();
    JobTimes t;
    t.received = NowMs();
    std::vector<faas::S3EventRecord> records;
    std::string key = faas::ParseS3EventNotification(message.body, &records).ok() && records.size() == 1
                          ? records[0].key
                          : "";
    faas::LeaseIdentity identity = identities.For(message.id);
    faas::LeaseVariables variables;
    std::string lease_id, body, reason;
    t.lease_requested = NowMs();
    s = Lease(o, function, identity, &variables, &lease_id);
    if (!s.ok()) return s;  // ssgmd gone: the baseline stops
    t.lease_granted = NowMs();
    s = faas::BuildInvokeBody(message.body, variables, &body);
    faas::InvokeVerdict verdict;
    t.invoke_start = NowMs();
    if (s.ok()) verdict = Invoke(o, function, body);
    else verdict.reason = s.message();
    t.invoke_end = NowMs();
    s = Release(o, lease_id, identity.secret);
    if (!s.ok()) return s;
    t.released = NowMs();
    bool succeeded = verdict.kind == faas::InvokeVerdict::Kind::kSucceeded;
    if (succeeded) {
      s = queue->Ack(message.id);
      if (!s.ok()) return s;
      t.settled = NowMs();
      ++summary->succeeded;
    } else {
      ++summary->failed;  // not acknowledged: it comes back after the visibility timeout
      reason = verdict.reason;
    }
    LogJob(log, message, key, succeeded ? "succeeded" : "retry", reason, t);
  }
  return Status::Ok();
}

}  // namespace rcuda::faas_bench
