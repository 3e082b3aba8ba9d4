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

Json EncodeGrant(const Grant& grant);
Status DecodeGrant(const Json& json, Grant* grant);
Json EncodeLease(const Lease& lease);
Status DecodeLease(const Json& json, Lease* lease);
// Writes the report's members into `object` (which may already hold "op").
void EncodeNodeReport(const NodeReport& report, Json* object);
Status DecodeNodeReport(const Json& json, NodeReport* report);

// Node names travel in lease tokens and in ssgm's one-line output: letters,
// digits and . _ - : only, 1 to 255 characters.
bool IsValidNodeName(std::string_view name);
// Idempotency keys: printable ASCII without spaces, 1 to 200 characters.
bool IsValidKey(std::string_view key);

}  // namespace rcuda::sched
