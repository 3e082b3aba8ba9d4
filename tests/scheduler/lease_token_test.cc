#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <string>

#include "protocol/lease_token.h"

namespace {

const std::string kKey = "0123456789abcdef-shared-key";

rcuda::LeaseClaims SampleClaims() {
  rcuda::LeaseClaims claims;
  claims.lease_id = "5f3a9c0d11e2b7a4";
  claims.expires_unix = 2000;
  claims.grants.push_back({"gpu-node1", 8308, 0, 1ull << 30});
  claims.grants.push_back({"gpu-node2", 9000, 3, 1ull << 30});
  return claims;
}

// Flips one base64url character of the token at `index` to another valid one.
std::string Tamper(std::string token, size_t index) {
  token[index] = token[index] == 'A' ? 'B' : 'A';
  return token;
}

}  // namespace

TEST_CASE("a signed token verifies and carries its claims", "[token]") {
  std::string token = rcuda::SignLeaseToken(SampleClaims(), kKey);
  CHECK(token.find_first_of(" ;=\n\t'\"") == std::string::npos);
  CHECK(token.rfind("rct1.", 0) == 0);
  rcuda::LeaseClaims claims;
  REQUIRE(rcuda::VerifyLeaseToken(token, kKey, 1999, &claims).ok());
  CHECK(claims.lease_id == "5f3a9c0d11e2b7a4");
  CHECK(claims.expires_unix == 2000);
  REQUIRE(claims.grants.size() == 2);
  CHECK(claims.grants[1].node == "gpu-node2");
  CHECK(claims.grants[1].port == 9000);
  CHECK(claims.grants[1].gpu == 3);
  CHECK(claims.grants[1].mem_bytes == (1ull << 30));
}

TEST_CASE("an expired token is refused", "[token]") {
  std::string token = rcuda::SignLeaseToken(SampleClaims(), kKey);
  rcuda::LeaseClaims claims;
  rcuda::Status s = rcuda::VerifyLeaseToken(token, kKey, 2000, &claims);
  CHECK_FALSE(s.ok());
  CHECK(s.message().find("expired") != std::string::npos);
  CHECK_FALSE(rcuda::VerifyLeaseToken(token, kKey, 5000, &claims).ok());
}

TEST_CASE("a forged or altered token is refused", "[token]") {
  std::string token = rcuda::SignLeaseToken(SampleClaims(), kKey);
  rcuda::LeaseClaims claims;
  // Signed with another key.
  CHECK_FALSE(rcuda::VerifyLeaseToken(rcuda::SignLeaseToken(SampleClaims(), "another-key-of-16+bytes"), kKey, 0,
                                      &claims)
                  .ok());
  // Any byte of payload or MAC changed.
  for (size_t i = 5; i < token.size(); i += 7) {
    if (token[i] == '.') continue;
    CHECK_FALSE(rcuda::VerifyLeaseToken(Tamper(token, i), kKey, 0, &claims).ok());
  }
  // A bigger grant with the original MAC.
  rcuda::LeaseClaims greedy = SampleClaims();
  greedy.grants[0].mem_bytes = 80ull << 30;
  std::string greedy_token = rcuda::SignLeaseToken(greedy, "attacker-key-xxxxxxxx");
  std::string spliced = greedy_token.substr(0, greedy_token.rfind('.')) + token.substr(token.rfind('.'));
  CHECK_FALSE(rcuda::VerifyLeaseToken(spliced, kKey, 0, &claims).ok());
  // Garbage.
  CHECK_FALSE(rcuda::VerifyLeaseToken("", kKey, 0, &claims).ok());
  CHECK_FALSE(rcuda::VerifyLeaseToken("rct1.", kKey, 0, &claims).ok());
  CHECK_FALSE(rcuda::VerifyLeaseToken("rct1..", kKey, 0, &claims).ok());
  CHECK_FALSE(rcuda::VerifyLeaseToken("hello world", kKey, 0, &claims).ok());
  // No key: nothing verifies.
  CHECK_FALSE(rcuda::VerifyLeaseToken(token, "", 0, &claims).ok());
}

TEST_CASE("FindGrant matches node, port and GPU", "[token]") {
  rcuda::LeaseClaims claims = SampleClaims();
  const rcuda::LeaseGrant* grant = rcuda::FindGrant(claims, "gpu-node2", 9000, 3);
  REQUIRE(grant != nullptr);
  CHECK(grant->node == "gpu-node2");
  // A server that does not know its node name honours no grant: the servers
  // share one key, so "any node" let a token for node 1 open node 2's GPU 0.
  CHECK(rcuda::FindGrant(claims, "", 8308, 0) == nullptr);
  // Another GPU's token: same node and port, other GPU.
  CHECK(rcuda::FindGrant(claims, "gpu-node1", 8308, 1) == nullptr);
  CHECK(rcuda::FindGrant(claims, "gpu-node1", 9000, 0) == nullptr);
  CHECK(rcuda::FindGrant(claims, "gpu-node3", 8308, 0) == nullptr);
}

TEST_CASE("odd characters in claims survive the round trip", "[token]") {
  rcuda::LeaseClaims claims = SampleClaims();
  claims.lease_id = "id with spaces;and=stuff\n%";
  claims.grants[0].node = "node%20x y";
  std::string token = rcuda::SignLeaseToken(claims, kKey);
  CHECK(token.find_first_of(" ;=\n") == std::string::npos);
  rcuda::LeaseClaims parsed;
  REQUIRE(rcuda::VerifyLeaseToken(token, kKey, 0, &parsed).ok());
  CHECK(parsed.lease_id == claims.lease_id);
  CHECK(parsed.grants[0].node == claims.grants[0].node);
}

TEST_CASE("the key file is read with trailing whitespace stripped", "[token]") {
  std::string path = "lease_token_test.key";
  std::ofstream(path) << "  leading-space-kept-0123456789 \n\n";
  std::string key;
  REQUIRE(rcuda::ReadLeaseKeyFile(path, &key).ok());
  CHECK(key == "  leading-space-kept-0123456789");
  std::ofstream(path) << "short\n";
  CHECK_FALSE(rcuda::ReadLeaseKeyFile(path, &key).ok());
  std::remove(path.c_str());
  CHECK_FALSE(rcuda::ReadLeaseKeyFile("/nonexistent/key", &key).ok());
}

TEST_CASE("hostile tokens: oversized, too many grants, bad fields, far expiry", "[token][security]") {
  rcuda::LeaseClaims claims;
  // A huge token is refused before any hashing or decoding.
  std::string huge = "rct1." + std::string(rcuda::kMaxLeaseTokenBytes, 'A') + ".AAAA";
  rcuda::Status s = rcuda::VerifyLeaseToken(huge, kKey, 0, &claims);
  CHECK_FALSE(s.ok());
  CHECK(s.message().find("too long") != std::string::npos);
  // Even correctly signed, a token with more grants than any lease may hold.
  rcuda::LeaseClaims many = SampleClaims();
  many.grants.assign(rcuda::kMaxLeaseTokenGrants + 1, many.grants[0]);
  CHECK_FALSE(rcuda::VerifyLeaseToken(rcuda::SignLeaseToken(many, kKey), kKey, 0, &claims).ok());
  // Signed tokens with fields out of range.
  for (auto mutate : std::vector<void (*)(rcuda::LeaseClaims*)>{
           [](rcuda::LeaseClaims* c) { c->lease_id = ""; },
           [](rcuda::LeaseClaims* c) { c->lease_id = std::string(rcuda::kMaxLeaseIdBytes + 1, 'x'); },
           [](rcuda::LeaseClaims* c) { c->grants[0].node = ""; },
           [](rcuda::LeaseClaims* c) { c->grants[0].gpu = -1; },
           [](rcuda::LeaseClaims* c) { c->grants.clear(); }}) {
    rcuda::LeaseClaims bad = SampleClaims();
    mutate(&bad);
    CHECK_FALSE(rcuda::VerifyLeaseToken(rcuda::SignLeaseToken(bad, kKey), kKey, 0, &claims).ok());
  }
  // Expiry at the ends of int64: no overflow, plain comparison.
  rcuda::LeaseClaims old = SampleClaims();
  old.expires_unix = INT64_MIN;
  CHECK_FALSE(rcuda::VerifyLeaseToken(rcuda::SignLeaseToken(old, kKey), kKey, 0, &claims).ok());
  // Non-canonical base64 (unused bits set) and bytes outside the alphabet.
  std::string token = rcuda::SignLeaseToken(SampleClaims(), kKey);
  CHECK_FALSE(rcuda::VerifyLeaseToken(token + "=", kKey, 0, &claims).ok());
  CHECK_FALSE(rcuda::VerifyLeaseToken(token.substr(0, token.size() - 1) + "/", kKey, 0, &claims).ok());
  std::string with_nul = token;
  with_nul[8] = '\0';
  CHECK_FALSE(rcuda::VerifyLeaseToken(with_nul, kKey, 0, &claims).ok());
}
