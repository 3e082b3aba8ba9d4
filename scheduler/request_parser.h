// ssgmd's reading of one request line: who sent it (which key signed it),
// what it asks for, and whether that sender may ask it. Everything a peer
// writes passes through ParseRequestLine before the daemon acts on it; it is
// a plain function of its arguments (no I/O, no state), so it can be tested
// and fuzzed on its own (tests/fuzz).
//
// Roles, by the key that signed the line (request_auth.h):
//   client   - the client key, or no signature when ssgmd has no client key:
//              request leases; renew and release its own (with the lease's
//              secret); status without lease ids or keys; stats.
//   node     - the node key (monitors): report. Without a node key, a
//              client may report (as before node keys existed).
//   operator - the operator key: everything, including renewing and
//              releasing any lease without its secret, and status with lease
//              ids and idempotency keys.
// One key may hold several roles (the same file given twice).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "scheduler/cluster_types.h"
#include "scheduler/json.h"

namespace rcuda::sched {

enum RequestRole : unsigned { kRoleClient = 1, kRoleNode = 2, kRoleOperator = 4 };

struct RequestKeys {
  std::string client;        // empty: unsigned requests are clients
  std::string node;          // empty: reports need only the client role
  std::string operator_key;  // empty: there are no operators
};

struct RequestLimits {
  int64_t default_ttl_ms = 300'000;
  int64_t max_ttl_ms = 86'400'000;
  int64_t max_wait_ms = 3'600'000;
  int max_gpus_per_request = 16;
};

enum class RequestOp { kRequest, kRelease, kRenew, kStatus, kStats, kReport };

// Why a line was refused: counted apart in ssgmd's stats.
enum class RequestFailure { kNone, kUnauthenticated, kForbidden, kMalformed };

struct ParsedRequest {
  RequestOp op = RequestOp::kStatus;
  unsigned roles = 0;
  Json echo;  // the request's "id", given back in its reply (also on failure, once known)
  RequestFailure failure = RequestFailure::kNone;

  // request
  int gpus = 1;
  uint64_t mem_bytes = 0;
  int64_t wait_ms = 0;  // 0: answer at once; otherwise at most max_wait_ms
  int64_t ttl_ms = 0;   // request: the lease's; renew: 0 keeps the lease's own
  std::string key;      // idempotency key, optional
  std::string secret;   // request: the holder's chosen secret (optional); renew, release: the lease's
  // release, renew
  std::string lease;
  // status, stats
  bool with_leases = true;
  bool reset = false;
  // report
  NodeReport report;
  bool wants_revocations = false;  // the monitor keeps a revoked-leases file
  uint64_t revoked_after = 0;      // revocations it already has (sequence number)...
  std::string revoked_epoch;       // ...from this ssgmd run

  bool is_operator() const { return roles & kRoleOperator; }
};

// Authenticates, parses and checks one request line (without its newline).
// On failure out->failure says which kind and the status's message is what
// the reply says.
Status ParseRequestLine(std::string_view line, const RequestKeys& keys, const RequestLimits& limits,
                        int64_t now_unix_ms, ParsedRequest* out);

}  // namespace rcuda::sched
