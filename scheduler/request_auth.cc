#include "scheduler/request_auth.h"

#include <chrono>
#include <cstdlib>

#include "protocol/hmac_sha256.h"

namespace rcuda::sched {
namespace {

constexpr std::string_view kAuthMember = ",\"auth\":\"";
constexpr size_t kMacHexChars = 64;

std::string MacHex(std::string_view key, std::string_view message) {
  static constexpr char kDigits[] = "0123456789abcdef";
  Sha256Digest mac = HmacSha256(key, message);
  std::string hex;
  hex.reserve(kMacHexChars);
  for (uint8_t b : mac) {
    hex.push_back(kDigits[b >> 4]);
    hex.push_back(kDigits[b & 15]);
  }
  return hex;
}

}  // namespace

int64_t UnixMillisNow() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string SignRequestLine(std::string_view line, std::string_view key, int64_t now_unix_ms) {
  // Drop the closing brace, add "ts", sign that object, then add "auth".
  std::string body(line.substr(0, line.size() - 1));
  if (body != "{") body += ',';
  body += "\"ts\":" + std::to_string(now_unix_ms);
  std::string mac = MacHex(key, body + "}");
  return body + std::string(kAuthMember) + mac + "\"}";
}

Status VerifyRequestLine(std::string_view line, std::string_view key, int64_t now_unix_ms, Json* message) {
  const size_t tail = kAuthMember.size() + kMacHexChars + 2;  // ,"auth":"<hex>"}
  if (line.size() < tail + 2 || line.substr(line.size() - 2) != "\"}" ||
      line.substr(line.size() - tail, kAuthMember.size()) != kAuthMember) {
    return Status::InvalidValue("unauthenticated request: this ssgmd needs requests signed with its client key "
                                "(ssgm --auth-key-file, or SSGM_KEY_FILE)");
  }
  std::string_view mac = line.substr(line.size() - kMacHexChars - 2, kMacHexChars);
  std::string signed_part(line.substr(0, line.size() - tail));
  signed_part += '}';
  if (!ConstantTimeEqual(MacHex(key, signed_part), mac)) {
    return Status::InvalidValue("unauthenticated request: its signature does not match this ssgmd's client key");
  }
  Json object;
  int64_t ts = 0;
  if (!ParseJson(signed_part, &object).ok() || !object.is_object() || !object.Find("ts") ||
      !object.Find("ts")->is_integer()) {
    return Status::InvalidValue("unauthenticated request: signed, but without a \"ts\" time");
  }
  ts = object.Find("ts")->AsInt();
  // Compared without subtracting: a "ts" near INT64_MIN would overflow.
  if (ts < now_unix_ms - kMaxRequestSkewMs || ts > now_unix_ms + kMaxRequestSkewMs) {
    return Status::InvalidValue("unauthenticated request: its time is " +
                                std::to_string(int64_t((double(now_unix_ms) - double(ts)) / 1000)) +
                                " s away from this ssgmd's clock (at most " +
                                std::to_string(kMaxRequestSkewMs / 1000) + " s allowed)");
  }
  if (message) *message = std::move(object);
  return Status::Ok();
}

}  // namespace rcuda::sched
