// Fuzz target: what ssgmd reads from an ssgm or monitor connection
// (scheduler/ssgmd_service.cc, wire.h): lines of JSON. Each line goes the way
// ssgmd takes it:
// - parsed (ParseJson), as an ssgmd without --client-key-file does;
// - verified as it stands (VerifyRequestLine), as one with a client key does:
//   refused, the fuzzer cannot forge the MAC;
// - made right: the line taken as the signed part of a request and given the
//   fuzzer's MAC, so that the checks behind the MAC ("ts", the skew) see it;
// - then authenticated, parsed and checked as the service does
//   (ParseRequestLine, request_parser.h), with and without a client key, and
//   fed to a Scheduler, with time moving on.
// What ssgmd writes about a grant must read back: its journal record replays,
// its lease token verifies.
//
// The input is the byte stream: lines end at '\n' (a '\r' before it is
// dropped, empty lines skipped), and a last line without one is taken too,
// as if its '\n' followed.
#include <string>
#include <vector>

#include "fuzz_check.h"
#include "protocol/hmac_sha256.h"
#include "protocol/lease_token.h"
#include "scheduler/json.h"
#include "scheduler/lease_journal.h"
#include "scheduler/request_auth.h"
#include "scheduler/scheduler.h"
#include "scheduler/lease_secret.h"
#include "scheduler/request_parser.h"
#include "scheduler/wire.h"

namespace rcuda::fuzz {
namespace {

using namespace rcuda::sched;

constexpr std::string_view kClientKey = "fuzz-client-key-0123456789abcdef";
constexpr std::string_view kLeaseKey = "fuzz-lease-key-0123456789abcdef";
// The clock the fuzzed ssgmd reads: when the corpus's signed requests were
// recorded (tests/fuzz/make_corpus.sh, 2026-12-04), so that their "ts" is in
// time (within the minute of skew allowed).
constexpr int64_t kStartMs = 1'796'372'653'000;

// The lowercase hex HMAC-SHA256 a signed request line ends with.
std::string MacHex(std::string_view message) {
  static constexpr char kDigits[] = "0123456789abcdef";
  Sha256Digest mac = HmacSha256(kClientKey, message);
  std::string hex;
  for (uint8_t b : mac) {
    hex += kDigits[b >> 4];
    hex += kDigits[b & 15];
  }
  return hex;
}

class FuzzedSsgmd {
 public:
  FuzzedSsgmd() : scheduler_(options_) {}

  void HandleLine(std::string_view line) {
    Json message;
    Status parsed = ParseJson(line, &message);
    Use(VerifyRequestLine(line, kClientKey, now_ms_, nullptr).code());
    if (line.size() >= 2 && line.back() == '}') {
      std::string signed_line(line.substr(0, line.size() - 1));
      signed_line += ",\"auth\":\"" + MacHex(line) + "\"}";
      Json verified;
      if (VerifyRequestLine(signed_line, kClientKey, now_ms_, &verified).ok()) {
        FUZZ_CHECK(parsed.ok() && verified.Dump() == message.Dump(), "a verified request is not the line's object");
      }
    }
    if (!parsed.ok() || !message.is_object()) return;
    Json reparsed;
    FUZZ_CHECK(ParseJson(message.Dump(), &reparsed).ok(), "Json::Dump wrote what ParseJson refuses");
    // As an ssgmd with a client key sees the signed line, and as one
    // without keys sees the line itself.
    ParsedRequest request;
    RequestKeys keys;
    keys.client = std::string(kClientKey);
    Status s = Status::InvalidValue("unsigned");
    if (line.size() >= 2 && line.back() == '}') {
      std::string signed_line(line.substr(0, line.size() - 1));
      signed_line += ",\"auth\":\"" + MacHex(line) + "\"}";
      s = ParseRequestLine(signed_line, keys, limits_, now_ms_, &request);
    }
    ParsedRequest unsigned_request;
    Status u = ParseRequestLine(line, RequestKeys{}, limits_, now_ms_, &unsigned_request);
    if (!s.ok()) {
      if (!u.ok()) return;
      request = std::move(unsigned_request);
    }
    switch (request.op) {
      case RequestOp::kRequest:
        Request(request);
        break;
      case RequestOp::kRelease: {
        bool existed = false;
        if (!request.lease.empty()) scheduler_.Release(request.lease, now_ms_, &existed);
        break;
      }
      case RequestOp::kRenew: {
        Lease renewed;
        if (scheduler_.Renew(request.lease, request.ttl_ms, now_ms_, &renewed).ok()) CheckLease(renewed);
        break;
      }
      case RequestOp::kReport:
        Report(request.report);
        break;
      case RequestOp::kStatus:
      case RequestOp::kStats:
        break;
    }
    now_ms_ += 250;
    scheduler_.Tick(now_ms_);
    for (const Notice& notice : scheduler_.TakeNotices()) {
      if (notice.decision.outcome == Outcome::kGranted) CheckLease(notice.decision.lease);
    }
  }

 private:
  static SchedulerOptions MakeOptions() {
    SchedulerOptions options;
    // Lease ids from a counter, so that an input always does the same.
    options.new_lease_id = [next = uint64_t{0}]() mutable { return "lease" + std::to_string(++next); };
    return options;
  }

  void Request(const ParsedRequest& parsed) {
    LeaseRequest request;
    request.gpus = parsed.gpus;
    request.mem_bytes = parsed.mem_bytes;
    request.ttl_ms = parsed.ttl_ms;
    request.wait_ms = parsed.wait_ms;
    request.key = parsed.key;
    request.secret_sha256 = HashLeaseSecret(parsed.secret.empty() ? "fuzz-made-secret" : parsed.secret);
    request.requester = next_requester_++;
    Decision decision = scheduler_.Submit(request, now_ms_);
    if (decision.outcome != Outcome::kGranted) return;
    const Lease& lease = decision.lease;
    if (!decision.repeated) {
      FUZZ_CHECK(int(lease.grants.size()) == request.gpus, "a lease with another number of GPUs than requested");
    }
    CheckLease(lease);
  }

  void Report(const NodeReport& report) {
    // What a monitor sends must decode as it was sent.
    Json encoded = Json::Object();
    EncodeNodeReport(report, &encoded);
    NodeReport again;
    FUZZ_CHECK(DecodeNodeReport(encoded, &again).ok(), "an encoded node report does not decode");
    scheduler_.UpdateNode(report, now_ms_);
  }

  // What ssgmd makes of a lease must read back: the journal's record of it
  // replays into the same lease, and its token verifies.
  void CheckLease(const Lease& lease) {
    Scheduler replayed(SchedulerOptions{});
    ReplayStats stats;
    Status s = ReplayJournal({GrantRecord(lease)}, &replayed, nullptr, &stats);
    FUZZ_CHECK(s.ok(), "the journal record of a granted lease does not replay");
    auto it = replayed.leases().find(lease.id);
    FUZZ_CHECK(it != replayed.leases().end() && EncodeLease(it->second).Dump() == EncodeLease(lease).Dump(),
               "the journal record of a lease replays into another lease");
    LeaseClaims claims;
    claims.lease_id = lease.id;
    claims.expires_unix = (lease.expires_ms + 999) / 1000;
    for (const auto& grant : lease.grants) claims.grants.push_back({grant.node, grant.port, grant.gpu, grant.mem_bytes});
    LeaseClaims verified;
    s = VerifyLeaseToken(SignLeaseToken(claims, kLeaseKey), kLeaseKey, now_ms_ / 1000, &verified);
    FUZZ_CHECK(s.ok(), "the token of a lease ssgmd grants does not verify");
  }

  SchedulerOptions options_ = MakeOptions();
  RequestLimits limits_;
  Scheduler scheduler_;
  uint64_t next_requester_ = 1;
  int64_t now_ms_ = kStartMs;
};

}  // namespace
}  // namespace rcuda::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input = rcuda::fuzz::AsText(data, size);
  rcuda::fuzz::FuzzedSsgmd ssgmd;
  while (!input.empty()) {
    size_t newline = input.find('\n');
    std::string_view line = input.substr(0, newline);
    input.remove_prefix(newline == std::string_view::npos ? input.size() : newline + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty()) ssgmd.HandleLine(line);
  }
  return 0;
}
