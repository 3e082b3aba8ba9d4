#include "scheduler/lease_secret.h"

#include <algorithm>

#include "protocol/hmac_sha256.h"
#include "scheduler/random_id.h"

namespace rcuda::sched {

bool IsValidLeaseSecret(std::string_view secret) {
  if (secret.size() < kMinLeaseSecretBytes || secret.size() > kMaxLeaseSecretBytes) return false;
  return std::all_of(secret.begin(), secret.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '~' || c == '+' || c == '/' || c == '=' || c == '-';
  });
}

std::string NewLeaseSecret() { return RandomHex(16); }

std::string HashLeaseSecret(std::string_view secret) {
  static constexpr char kHex[] = "0123456789abcdef";
  Sha256Digest digest = Sha256Of(secret);
  std::string hex;
  hex.reserve(64);
  for (uint8_t b : digest) {
    hex += kHex[b >> 4];
    hex += kHex[b & 15];
  }
  return hex;
}

bool SecretHashesEqual(std::string_view a, std::string_view b) { return !a.empty() && ConstantTimeEqual(a, b); }

bool LeaseSecretMatches(const Lease& lease, std::string_view secret) {
  if (lease.secret_sha256.empty() || !IsValidLeaseSecret(secret)) return false;
  return SecretHashesEqual(lease.secret_sha256, HashLeaseSecret(secret));
}

}  // namespace rcuda::sched
