#include "scheduler/request_parser.h"

#include "scheduler/lease_secret.h"
#include "scheduler/request_auth.h"
#include "scheduler/wire.h"

namespace rcuda::sched {

namespace {

Status Fail(ParsedRequest* out, RequestFailure failure, std::string message) {
  out->failure = failure;
  return Status::InvalidValue(std::move(message));
}

// Which roles signed the line, and the object it carries.
Status Authenticate(std::string_view line, const RequestKeys& keys, int64_t now_unix_ms, Json* message,
                    ParsedRequest* out) {
  bool any_key = !keys.client.empty() || !keys.node.empty() || !keys.operator_key.empty();
  std::string signed_part;
  std::string_view mac;
  bool is_signed = any_key && SplitSignedLine(line, &signed_part, &mac);
  if (!is_signed) {
    if (!keys.client.empty()) {
      return Fail(out, RequestFailure::kUnauthenticated,
                  "unauthenticated request: this ssgmd needs requests signed with its client key "
                  "(ssgm --auth-key-file, or SSGM_KEY_FILE)");
    }
    // Without a client key, an unsigned line is a client's (and, with no key
    // at all, so is a signed one: its signature means nothing here).
    out->roles = kRoleClient;
    Status parsed = ParseJson(line, message);
    if (!parsed.ok()) return Fail(out, RequestFailure::kMalformed, "malformed request: " + parsed.message());
    return Status::Ok();
  }
  unsigned roles = 0;
  if (SignatureMatches(signed_part, mac, keys.operator_key)) roles |= kRoleOperator;
  if (SignatureMatches(signed_part, mac, keys.node)) roles |= kRoleNode;
  if (SignatureMatches(signed_part, mac, keys.client)) roles |= kRoleClient;
  if (roles == 0) {
    return Fail(out, RequestFailure::kUnauthenticated,
                "unauthenticated request: its signature matches none of this ssgmd's keys");
  }
  Status parsed = ParseJson(signed_part, message);
  if (!parsed.ok()) return Fail(out, RequestFailure::kMalformed, "malformed request: " + parsed.message());
  Status fresh = CheckRequestTime(*message, now_unix_ms);
  if (!fresh.ok()) return Fail(out, RequestFailure::kUnauthenticated, fresh.message());
  out->roles = roles;
  return Status::Ok();
}

Status ParseLeaseRequest(const Json& message, const RequestLimits& limits, ParsedRequest* out) {
  int64_t gpus = 1, mem = 0, wait_ms = 0, ttl_ms = limits.default_ttl_ms;
  Status s = GetOptionalInt(message, "gpus", &gpus);
  if (s.ok()) s = GetInt(message, "mem", &mem);
  if (s.ok()) s = GetOptionalInt(message, "wait_ms", &wait_ms);
  if (s.ok()) s = GetOptionalInt(message, "ttl_ms", &ttl_ms);
  if (s.ok()) s = GetOptionalString(message, "key", &out->key);
  if (s.ok()) s = GetOptionalString(message, "secret", &out->secret);
  if (s.ok() && (gpus < 1 || gpus > limits.max_gpus_per_request)) {
    s = Status::InvalidValue("gpus must be 1 to " + std::to_string(limits.max_gpus_per_request));
  }
  if (s.ok() && mem <= 0) s = Status::InvalidValue("mem must be a positive number of bytes");
  if (s.ok() && (ttl_ms <= 0 || ttl_ms > limits.max_ttl_ms)) {
    s = Status::InvalidValue("ttl_ms must be 1 to " + std::to_string(limits.max_ttl_ms) + " (max-ttl)");
  }
  if (s.ok() && !out->key.empty() && !IsValidKey(out->key)) {
    s = Status::InvalidValue("an idempotency key is 1 to 200 printable characters without spaces");
  }
  if (s.ok() && !out->secret.empty() && !IsValidLeaseSecret(out->secret)) {
    s = Status::InvalidValue("a lease secret is 16 to 128 characters of [A-Za-z0-9._~+/=-]");
  }
  if (!s.ok()) return Status::InvalidValue("bad request: " + s.message());
  out->gpus = int(gpus);
  out->mem_bytes = uint64_t(mem);
  out->ttl_ms = ttl_ms;
  // A negative wait means "as long as ssgmd allows".
  out->wait_ms = wait_ms < 0 || wait_ms > limits.max_wait_ms ? limits.max_wait_ms : wait_ms;
  return Status::Ok();
}

Status ParseLeaseOp(const Json& message, const RequestLimits& limits, const char* what, ParsedRequest* out) {
  Status s = GetString(message, "lease", &out->lease);
  if (s.ok() && !IsValidLeaseId(out->lease)) s = Status::InvalidValue("bad lease id");
  if (s.ok()) s = GetOptionalString(message, "secret", &out->secret);
  if (s.ok() && !out->secret.empty() && !IsValidLeaseSecret(out->secret)) s = Status::InvalidValue("bad lease secret");
  if (s.ok() && out->op == RequestOp::kRenew) {
    s = GetOptionalInt(message, "ttl_ms", &out->ttl_ms);
    if (s.ok() && (out->ttl_ms < 0 || out->ttl_ms > limits.max_ttl_ms)) {
      s = Status::InvalidValue("ttl_ms must be 1 to " + std::to_string(limits.max_ttl_ms));
    }
  }
  if (!s.ok()) return Status::InvalidValue(std::string(what) + ": " + s.message());
  return Status::Ok();
}

Status ParseReport(const Json& message, ParsedRequest* out) {
  Status s = DecodeNodeReport(message, &out->report);
  if (!s.ok()) return Status::InvalidValue("bad report: " + s.message());
  if (message.Find("revoked_after")) {
    int64_t after = 0;
    s = GetInt(message, "revoked_after", &after);
    if (s.ok()) s = GetOptionalString(message, "revoked_epoch", &out->revoked_epoch);
    if (s.ok() && (after < 0 || !IsPrintableText(out->revoked_epoch, 64))) {
      s = Status::InvalidValue("revoked_after or revoked_epoch out of range");
    }
    if (!s.ok()) return Status::InvalidValue("bad report: " + s.message());
    out->wants_revocations = true;
    out->revoked_after = uint64_t(after);
  }
  return Status::Ok();
}

bool Permitted(const ParsedRequest& request, const RequestKeys& keys) {
  if (request.op == RequestOp::kReport) {
    unsigned may_report = kRoleNode | kRoleOperator | (keys.node.empty() ? kRoleClient : 0u);
    return request.roles & may_report;
  }
  return request.roles & (kRoleClient | kRoleOperator);
}

}  // namespace

Status ParseRequestLine(std::string_view line, const RequestKeys& keys, const RequestLimits& limits,
                        int64_t now_unix_ms, ParsedRequest* out) {
  *out = ParsedRequest{};
  if (line.size() > kMaxLineBytes) {
    return Fail(out, RequestFailure::kMalformed, "request line longer than " + std::to_string(kMaxLineBytes) + " bytes");
  }
  Json message;
  RCUDA_RETURN_IF_ERROR(Authenticate(line, keys, now_unix_ms, &message, out));
  if (!message.is_object()) return Fail(out, RequestFailure::kMalformed, "malformed request: not a JSON object");
  if (const Json* id = message.Find("id")) out->echo = *id;
  std::string op;
  if (!GetString(message, "op", &op).ok()) return Fail(out, RequestFailure::kMalformed, "malformed request: no \"op\"");
  Status s;
  if (op == "request") {
    out->op = RequestOp::kRequest;
    s = ParseLeaseRequest(message, limits, out);
  } else if (op == "release") {
    out->op = RequestOp::kRelease;
    s = ParseLeaseOp(message, limits, "bad release", out);
  } else if (op == "renew") {
    out->op = RequestOp::kRenew;
    s = ParseLeaseOp(message, limits, "bad renew", out);
  } else if (op == "status") {
    out->op = RequestOp::kStatus;
    s = GetOptionalBool(message, "leases", &out->with_leases);
  } else if (op == "stats") {
    out->op = RequestOp::kStats;
    s = GetOptionalBool(message, "reset", &out->reset);
  } else if (op == "report") {
    out->op = RequestOp::kReport;
    s = ParseReport(message, out);
  } else {
    return Fail(out, RequestFailure::kMalformed, "unknown op '" + op.substr(0, 64) + "'");
  }
  if (!s.ok()) return Fail(out, RequestFailure::kMalformed, s.message());
  if (!Permitted(*out, keys)) {
    return Fail(out, RequestFailure::kForbidden,
                op == "report" ? "forbidden: reports must be signed with ssgmd's node key (the monitor's "
                                 "scheduler-key-file)"
                               : "forbidden: the node key may only report; requests need the client key");
  }
  return Status::Ok();
}

}  // namespace rcuda::sched
