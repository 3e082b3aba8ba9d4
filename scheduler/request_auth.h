// Requests to ssgmd signed with a key that ssgmd shares with the cluster's
// ssgm users and monitors (ssgmd --client-key-file). Without it, anyone who
// can reach ssgmd can take leases, and with them tokens that the servers
// accept, or register a node of their own.
//
// A signed line is the request's JSON object with two more members at its
// end: "ts", the sender's clock in unix milliseconds, and "auth", the
// lowercase hex HMAC-SHA256 of the line as it stands without the "auth"
// member. ssgmd checks the MAC over the exact bytes (no re-encoding) and
// refuses a line whose "ts" is more than kMaxRequestSkewMs away from its own
// clock, so a recorded line is good for a minute at most. The key travels
// nowhere; the requests themselves are not encrypted.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "scheduler/json.h"

namespace rcuda::sched {

inline constexpr int64_t kMaxRequestSkewMs = 60'000;

// `line` is one JSON object, as Json::Dump writes it.
std::string SignRequestLine(std::string_view line, std::string_view key, int64_t now_unix_ms);

// OK when `line` is signed with `key` and its "ts" is within the skew, and
// then *message (if given) is the request's object, parsed; otherwise a
// message that says what is wrong (never which bytes of the MAC).
Status VerifyRequestLine(std::string_view line, std::string_view key, int64_t now_unix_ms, Json* message = nullptr);

// The pieces of VerifyRequestLine, for a verifier with several keys
// (request_parser.h). SplitSignedLine: false when the line ends in no "auth"
// member; else *signed_part is the signed object's text (the line without
// that member) and *mac_hex the MAC's digits.
bool SplitSignedLine(std::string_view line, std::string* signed_part, std::string_view* mac_hex);
// Constant-time check of the MAC against `key`.
bool SignatureMatches(std::string_view signed_part, std::string_view mac_hex, std::string_view key);
// The signed object's "ts" is an integer within kMaxRequestSkewMs of now.
Status CheckRequestTime(const Json& object, int64_t now_unix_ms);

int64_t UnixMillisNow();

}  // namespace rcuda::sched
