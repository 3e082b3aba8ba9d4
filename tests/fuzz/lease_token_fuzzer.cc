// Fuzz target: lease tokens as rcuda-server receives them in a Hello
// (protocol/lease_token.h). Each input is tried three ways:
// - as it is: VerifyLeaseToken must refuse it without reading its payload
//   unless the MAC is right (the fuzzer cannot forge one);
// - re-signed with the fuzzer's key (the part before the last '.' keeps the
//   fuzzer's bytes, the MAC is made right), so that the base64url decoder and
//   the payload parser behind the MAC check see the input as a token signed
//   by ssgmd would be;
// - as the payload itself ("rcuda-lease 1\nid ..."), encoded and signed, so
//   that the payload parser sees the fuzzer's bytes unencoded.
// A token that verifies must survive SignLeaseToken and VerifyLeaseToken
// again with the same claims.
#include <string>

#include "fuzz_check.h"
#include "protocol/hmac_sha256.h"
#include "protocol/lease_token.h"

namespace rcuda::fuzz {
namespace {

constexpr std::string_view kKey = "fuzz-lease-key-0123456789abcdef";

// Unpadded base64url (RFC 4648, section 5), as tokens carry their MAC.
std::string Base64Url(const uint8_t* bytes, size_t size) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  for (size_t i = 0; i < size; ++i) {
    bits = (bits << 8) | bytes[i];
    count += 8;
    while (count >= 6) {
      count -= 6;
      out += kAlphabet[(bits >> count) & 63];
    }
  }
  if (count > 0) out += kAlphabet[(bits << (6 - count)) & 63];
  return out;
}

bool SameClaims(const LeaseClaims& a, const LeaseClaims& b) {
  if (a.lease_id != b.lease_id || a.expires_unix != b.expires_unix || a.grants.size() != b.grants.size()) return false;
  for (size_t i = 0; i < a.grants.size(); ++i) {
    const LeaseGrant &x = a.grants[i], &y = b.grants[i];
    if (x.node != y.node || x.port != y.port || x.gpu != y.gpu || x.mem_bytes != y.mem_bytes) return false;
  }
  return true;
}

// The earliest time there is: only the expiry check's edge is expired.
constexpr int64_t kNow = INT64_MIN;

std::string Signed(const std::string& signed_part) {
  Sha256Digest mac = HmacSha256(kKey, signed_part);
  return signed_part + "." + Base64Url(mac.data(), mac.size());
}

void CheckVerified(const LeaseClaims& claims) {
  FUZZ_CHECK(!claims.grants.empty() && !claims.lease_id.empty(), "a verified token without a lease id or grants");
  for (const LeaseGrant& grant : claims.grants) {
    FUZZ_CHECK(grant.gpu >= 0, "a verified token grants a negative GPU index");
    FUZZ_CHECK(FindGrant(claims, grant.node, grant.port, grant.gpu) != nullptr, "a grant FindGrant cannot find");
  }
  std::string again = SignLeaseToken(claims, kKey);
  LeaseClaims reparsed;
  Status s = VerifyLeaseToken(again, kKey, kNow, &reparsed);
  FUZZ_CHECK(s.ok(), "a re-signed token does not verify");
  FUZZ_CHECK(SameClaims(claims, reparsed), "a re-signed token carries other claims");
  FUZZ_CHECK(again.find_first_of(" ;=\n") == std::string::npos, "a token that does not fit in RCUDA_TOKEN=<token>");
}

void Verify(const std::string& token) {
  LeaseClaims claims;
  if (VerifyLeaseToken(token, kKey, kNow, &claims).ok()) CheckVerified(claims);
}

}  // namespace
}  // namespace rcuda::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace rcuda;
  std::string_view input = fuzz::AsText(data, size);
  LeaseClaims claims;
  fuzz::Use(VerifyLeaseToken(input, fuzz::kKey, 0, &claims).code());

  size_t dot = input.rfind('.');
  fuzz::Verify(fuzz::Signed(std::string(dot == std::string_view::npos ? input : input.substr(0, dot))));
  fuzz::Verify(fuzz::Signed("rct1." + fuzz::Base64Url(data, size)));
  return 0;
}
