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
  CHECK(rcuda::FindGrant(claims, "", 8308, 0) == &claims.grants[0]);  // any node
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
