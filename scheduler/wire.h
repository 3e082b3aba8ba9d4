// The messages between ssgm / rcuda-gpu-monitor and ssgmd. Each message is
// one line of JSON over TCP; every request gets exactly one reply line, in
// order. docs/scheduler.md ("Wire protocol") lists every field.
//
//   {"op":"request","gpus":1,"mem":1073741824,"wait_ms":0,"ttl_s":300,"key":"..."}
//   {"op":"release","lease":"..."}     {"op":"renew","lease":"...","ttl_s":300}
//   {"op":"status"}                    {"op":"report", <NodeReport>}
// Replies carry "error" (the SSGM_ERROR code) and, on error, "message".
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/status.h"
#include "scheduler/cluster_types.h"
#include "scheduler/json.h"

namespace rcuda::sched {

// SSGM_ERROR values: ssgm's output and exit status, and the "error" field of replies.
enum SsgmError : int {
  kSsgmOk = 0,           // granted / done
  kSsgmBadRequest = 1,   // malformed, impossible, unknown lease
  kSsgmBusy = 2,         // no GPU free now (or not within the wait)
  kSsgmUnreachable = 3,  // ssgm could not get an answer from ssgmd (never sent by ssgmd)
};

inline constexpr uint16_t kDefaultSsgmdPort = 8309;
// Longest request line ssgmd reads; a longer one is refused and the connection closed.
inline constexpr size_t kMaxLineBytes = 1 << 20;
// What one report or lease may hold: bounds on what a peer makes ssgmd keep.
inline constexpr size_t kMaxGpusPerReport = 1024;
inline constexpr size_t kMaxSessionsPerReport = 16384;
inline constexpr size_t kMaxGrantsPerLease = 256;
inline constexpr size_t kMaxNodes = 10000;  // nodes ssgmd keeps; reports of further nodes are refused
inline constexpr size_t kMaxReportTextBytes = 1024;  // GPU names, UUIDs, source, session peers

Json EncodeGrant(const Grant& grant);
Status DecodeGrant(const Json& json, Grant* grant);
// The whole lease, secret hash included: the journal's form.
Json EncodeLease(const Lease& lease);
Status DecodeLease(const Json& json, Lease* lease);
// A lease as `ssgm status` shows it: memory, GPUs and expiry; its id and
// idempotency key only with `identity` (operators), never its secret hash.
Json EncodeLeaseSummary(const Lease& lease, bool identity);
// Writes the report's members into `object` (which may already hold "op").
void EncodeNodeReport(const NodeReport& report, Json* object);
Status DecodeNodeReport(const Json& json, NodeReport* report);

// Node names travel in lease tokens and in ssgm's one-line output: letters,
// digits and . _ - : only, 1 to 255 characters.
bool IsValidNodeName(std::string_view name);
// Idempotency keys: printable ASCII without spaces, 1 to 200 characters.
bool IsValidKey(std::string_view key);
// Lease ids: letters, digits and . _ - only, 1 to 64 characters (ssgmd makes
// 16 hex digits).
bool IsValidLeaseId(std::string_view id);
// Printable ASCII (no control characters), at most `max_bytes`.
bool IsPrintableText(std::string_view text, size_t max_bytes);

}  // namespace rcuda::sched
