#include "protocol/lease_token.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

#include "protocol/hmac_sha256.h"

namespace rcuda {

namespace {

constexpr std::string_view kTokenPrefix = "rct1.";
constexpr std::string_view kPayloadMagic = "rcuda-lease 1";
constexpr char kBase64UrlAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    out += kBase64UrlAlphabet[(v >> 18) & 63];
    out += kBase64UrlAlphabet[(v >> 12) & 63];
    out += kBase64UrlAlphabet[(v >> 6) & 63];
    out += kBase64UrlAlphabet[v & 63];
  }
  size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t v = uint8_t(bytes[i]) << 16;
    if (rest == 2) v |= uint8_t(bytes[i + 1]) << 8;
    out += kBase64UrlAlphabet[(v >> 18) & 63];
    out += kBase64UrlAlphabet[(v >> 12) & 63];
    if (rest == 2) out += kBase64UrlAlphabet[(v >> 6) & 63];
  }
  return out;
}

int Base64UrlValue(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

bool Base64UrlDecode(std::string_view text, std::string* out) {
  if (text.size() % 4 == 1) return false;
  out->clear();
  uint32_t accumulator = 0;
  int bits = 0;
  for (char c : text) {
    int v = Base64UrlValue(c);
    if (v < 0) return false;
    accumulator = (accumulator << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      *out += char((accumulator >> bits) & 0xff);
    }
  }
  // Canonical encodings only: the unused low bits must be zero.
  return (accumulator & ((1u << bits) - 1)) == 0;
}

bool IsPlainByte(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == ':' || c == '-';
}

std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    if (IsPlainByte(c)) {
      out += c;
    } else {
      out += '%';
      out += kHex[uint8_t(c) >> 4];
      out += kHex[uint8_t(c) & 15];
    }
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool PercentDecode(std::string_view text, std::string* out) {
  out->clear();
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      if (!IsPlainByte(text[i])) return false;
      *out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return false;
    int hi = HexValue(text[i + 1]), lo = HexValue(text[i + 2]);
    if (hi < 0 || lo < 0) return false;
    *out += char(hi * 16 + lo);
    i += 2;
  }
  return true;
}

template <typename T>
bool ParseInteger(std::string_view text, T* value) {
  if (text.empty()) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return ec == std::errc() && ptr == text.data() + text.size();
}

std::vector<std::string_view> Split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t stop = text.find(separator, start);
    parts.push_back(text.substr(start, stop == std::string_view::npos ? std::string_view::npos : stop - start));
    if (stop == std::string_view::npos) break;
    start = stop + 1;
  }
  return parts;
}

std::string Mac(std::string_view key, std::string_view signed_part) {
  Sha256Digest mac = HmacSha256(key, signed_part);
  return std::string(reinterpret_cast<const char*>(mac.data()), mac.size());
}

Status ParsePayload(std::string_view payload, LeaseClaims* claims) {
  std::vector<std::string_view> lines = Split(payload, '\n');
  if (lines.size() < 4 || lines[0] != kPayloadMagic) return Status::InvalidValue("lease token: unknown payload format");
  LeaseClaims parsed;
  bool have_id = false, have_expiry = false;
  for (size_t i = 1; i < lines.size(); ++i) {
    std::vector<std::string_view> fields = Split(lines[i], ' ');
    if (fields[0] == "id" && fields.size() == 2 && !have_id) {
      if (!PercentDecode(fields[1], &parsed.lease_id) || parsed.lease_id.empty() ||
          parsed.lease_id.size() > kMaxLeaseIdBytes) {
        return Status::InvalidValue("lease token: bad lease id");
      }
      have_id = true;
    } else if (fields[0] == "exp" && fields.size() == 2 && !have_expiry) {
      if (!ParseInteger(fields[1], &parsed.expires_unix)) return Status::InvalidValue("lease token: bad expiry");
      have_expiry = true;
    } else if (fields[0] == "grant" && fields.size() == 5) {
      if (parsed.grants.size() == kMaxLeaseTokenGrants) return Status::InvalidValue("lease token: too many grants");
      LeaseGrant grant;
      if (!PercentDecode(fields[1], &grant.node) || !ParseInteger(fields[2], &grant.port) ||
          !ParseInteger(fields[3], &grant.gpu) || grant.gpu < 0 || !ParseInteger(fields[4], &grant.mem_bytes) ||
          grant.node.empty()) {
        return Status::InvalidValue("lease token: bad grant line");
      }
      parsed.grants.push_back(std::move(grant));
    } else {
      return Status::InvalidValue("lease token: unexpected payload line");
    }
  }
  if (!have_id || !have_expiry || parsed.grants.empty()) {
    return Status::InvalidValue("lease token: payload lacks id, expiry or grants");
  }
  *claims = std::move(parsed);
  return Status::Ok();
}

}  // namespace

std::string SignLeaseToken(const LeaseClaims& claims, std::string_view key) {
  std::string payload(kPayloadMagic);
  payload += "\nid " + PercentEncode(claims.lease_id);
  payload += "\nexp " + std::to_string(claims.expires_unix);
  for (const LeaseGrant& grant : claims.grants) {
    payload += "\ngrant " + PercentEncode(grant.node) + " " + std::to_string(grant.port) + " " +
               std::to_string(grant.gpu) + " " + std::to_string(grant.mem_bytes);
  }
  std::string signed_part = std::string(kTokenPrefix) + Base64UrlEncode(payload);
  return signed_part + "." + Base64UrlEncode(Mac(key, signed_part));
}

Status VerifyLeaseToken(std::string_view token, std::string_view key, int64_t now_unix, LeaseClaims* claims) {
  if (key.empty()) return Status::InvalidValue("lease token: no key to verify with");
  if (token.size() > kMaxLeaseTokenBytes) return Status::InvalidValue("lease token: too long");
  if (!token.starts_with(kTokenPrefix)) return Status::InvalidValue("lease token: not an rcuda lease token");
  size_t dot = token.rfind('.');
  if (dot == std::string_view::npos || dot < kTokenPrefix.size()) return Status::InvalidValue("lease token: malformed");
  std::string_view signed_part = token.substr(0, dot);
  std::string mac;
  if (!Base64UrlDecode(token.substr(dot + 1), &mac)) return Status::InvalidValue("lease token: malformed signature");
  // The MAC is checked before the payload is even decoded: nothing an
  // unauthenticated sender wrote reaches the parser.
  if (!ConstantTimeEqual(mac, Mac(key, signed_part))) {
    return Status::InvalidValue("lease token: bad signature (forged, or signed with another key)");
  }
  std::string payload;
  if (!Base64UrlDecode(signed_part.substr(kTokenPrefix.size()), &payload)) {
    return Status::InvalidValue("lease token: malformed payload");
  }
  LeaseClaims parsed;
  RCUDA_RETURN_IF_ERROR(ParsePayload(payload, &parsed));
  if (now_unix >= parsed.expires_unix) {
    return Status::InvalidValue("lease token: lease " + parsed.lease_id + " expired at " +
                                std::to_string(parsed.expires_unix) + " (now " + std::to_string(now_unix) + ")");
  }
  *claims = std::move(parsed);
  return Status::Ok();
}

const LeaseGrant* FindGrant(const LeaseClaims& claims, std::string_view node_name, uint16_t port, int gpu) {
  if (node_name.empty()) return nullptr;
  for (const LeaseGrant& grant : claims.grants) {
    if (grant.port == port && grant.gpu == gpu && grant.node == node_name) return &grant;
  }
  return nullptr;
}

namespace {
constexpr std::string_view kRevokedHeader = "rcuda-revoked-leases 1";
}  // namespace

std::string FormatRevokedLeases(const RevokedLeases& revoked) {
  std::string text(kRevokedHeader);
  text += '\n';
  for (const auto& [lease_id, until] : revoked) {
    text += PercentEncode(lease_id);
    text += ' ';
    text += std::to_string(until);
    text += '\n';
  }
  return text;
}

Status ParseRevokedLeases(std::string_view text, int64_t now_unix, RevokedLeases* revoked) {
  if (text.size() > kMaxRevokedLeasesFileBytes) return Status::InvalidValue("revoked leases: file too large");
  std::vector<std::string_view> lines = Split(text, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();  // the last line's newline
  if (lines.empty() || lines[0] != kRevokedHeader) return Status::InvalidValue("revoked leases: unknown format");
  if (lines.size() - 1 > kMaxRevokedLeases) return Status::InvalidValue("revoked leases: too many entries");
  RevokedLeases parsed;
  for (size_t i = 1; i < lines.size(); ++i) {
    std::vector<std::string_view> fields = Split(lines[i], ' ');
    std::string lease_id;
    int64_t until = 0;
    if (fields.size() != 2 || !PercentDecode(fields[0], &lease_id) || lease_id.empty() ||
        lease_id.size() > kMaxLeaseIdBytes || !ParseInteger(fields[1], &until)) {
      return Status::InvalidValue("revoked leases: bad line " + std::to_string(i + 1));
    }
    if (until <= now_unix) continue;
    int64_t& kept = parsed[lease_id];
    kept = std::max(kept, until);
  }
  *revoked = std::move(parsed);
  return Status::Ok();
}

Status ReadLeaseKeyFile(const std::string& path, std::string* key) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return Status::InvalidValue("cannot read the lease key file '" + path + "'");
  std::ostringstream content;
  content << file.rdbuf();
  std::string text = content.str();
  size_t end = text.find_last_not_of(" \t\r\n");
  text.resize(end == std::string::npos ? 0 : end + 1);
  if (text.size() < kMinLeaseKeyBytes) {
    return Status::InvalidValue("the lease key in '" + path + "' has " + std::to_string(text.size()) +
                                " bytes; at least " + std::to_string(kMinLeaseKeyBytes) + " are needed");
  }
  *key = std::move(text);
  return Status::Ok();
}

}  // namespace rcuda
