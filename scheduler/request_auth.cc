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

bool SplitSignedLine(std::string_view line, std::string* signed_part, std::string_view* mac_hex) {
  const size_t tail = kAuthMember.size() + kMacHexChars + 2;  // ,"auth":"<hex>"}
  if (line.size() < tail + 2 || line.substr(line.size() - 2) != "\"}" ||
      line.substr(line.size() - tail, kAuthMember.size()) != kAuthMember) {
    return false;
  }
  *mac_hex = line.substr(line.size() - kMacHexChars - 2, kMacHexChars);
  signed_part->assign(line.substr(0, line.size() - tail));
  *signed_part += '}';
  return true;
}

bool SignatureMatches(std::string_view signed_part, std::string_view mac_hex, std::string_view key) {
  return !key.empty() && ConstantTimeEqual(MacHex(key, signed_part), mac_hex);
}

Status CheckRequestTime(const Json& object, int64_t now_unix_ms) {
  const Json* ts = object.is_object() ? object.Find("ts") : nullptr;
  if (!ts || !ts->is_integer()) {
    return Status::InvalidValue("unauthenticated request: signed, but without a \"ts\" time");
  }
  // Saturating difference: a hostile "ts" near INT64_MIN must not overflow.
  int64_t when = ts->AsInt();
  bool in_window = when >= now_unix_ms - kMaxRequestSkewMs && when <= now_unix_ms + kMaxRequestSkewMs;
  if (!in_window) {
    long double away = (static_cast<long double>(now_unix_ms) - static_cast<long double>(when)) / 1000;
    return Status::InvalidValue("unauthenticated request: its time is " + std::to_string(static_cast<long long>(away)) +
                                " s away from this ssgmd's clock (at most " +
                                std::to_string(kMaxRequestSkewMs / 1000) + " s allowed)");
  }
  return Status::Ok();
}

Status VerifyRequestLine(std::string_view line, std::string_view key, int64_t now_unix_ms, Json* message) {
  std::string signed_part;
  std::string_view mac;
  if (!SplitSignedLine(line, &signed_part, &mac)) {
    return Status::InvalidValue("unauthenticated request: this ssgmd needs requests signed with its client key "
                                "(ssgm --auth-key-file, or SSGM_KEY_FILE)");
  }
  if (!SignatureMatches(signed_part, mac, key)) {
    return Status::InvalidValue("unauthenticated request: its signature does not match this ssgmd's client key");
  }
  Json object;
  if (!ParseJson(signed_part, &object).ok() || !object.is_object()) {
    return Status::InvalidValue("unauthenticated request: signed, but without a \"ts\" time");
  }
  RCUDA_RETURN_IF_ERROR(CheckRequestTime(object, now_unix_ms));
  if (message) *message = std::move(object);
  return Status::Ok();
}

}  // namespace rcuda::sched
