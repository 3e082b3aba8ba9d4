// Signed requests to ssgmd (scheduler/request_auth.h).
#include <catch2/catch.hpp>

#include "scheduler/json.h"
#include "scheduler/request_auth.h"

using rcuda::sched::Json;
using rcuda::sched::SignRequestLine;
using rcuda::sched::VerifyRequestLine;

namespace {
constexpr const char* kKey = "request-auth-test-key-0123456789";
constexpr int64_t kNow = 1'800'000'000'000;
const std::string kLine = R"({"op":"request","gpus":1,"mem":1073741824,"key":"k1"})";
}  // namespace

TEST_CASE("a signed request verifies and is still the same JSON object plus ts and auth", "[auth]") {
  std::string signed_line = SignRequestLine(kLine, kKey, kNow);
  CHECK(VerifyRequestLine(signed_line, kKey, kNow).ok());
  Json verified;
  REQUIRE(VerifyRequestLine(signed_line, kKey, kNow, &verified).ok());
  CHECK(verified.Find("op")->AsString() == "request");
  CHECK(verified.Find("auth") == nullptr);
  Json object;
  REQUIRE(rcuda::sched::ParseJson(signed_line, &object).ok());
  CHECK(object.Find("op")->AsString() == "request");
  CHECK(object.Find("mem")->AsInt() == 1073741824);
  CHECK(object.Find("ts")->AsInt() == kNow);
  CHECK(object.Find("auth")->AsString().size() == 64);
  // An object without members signs too.
  CHECK(VerifyRequestLine(SignRequestLine("{}", kKey, kNow), kKey, kNow).ok());
}

TEST_CASE("an unsigned, altered, differently keyed or stale request is refused", "[auth]") {
  std::string signed_line = SignRequestLine(kLine, kKey, kNow);
  rcuda::Status unsigned_status = VerifyRequestLine(kLine, kKey, kNow);
  CHECK_FALSE(unsigned_status.ok());
  CHECK_THAT(unsigned_status.message(), Catch::Contains("client key"));

  std::string altered = signed_line;
  altered.replace(altered.find("1073741824"), 10, "9073741824");  // more memory
  CHECK_FALSE(VerifyRequestLine(altered, kKey, kNow).ok());
  std::string later = signed_line;
  later.replace(later.find(std::to_string(kNow)), 13, std::to_string(kNow + 1));  // a newer time
  CHECK_FALSE(VerifyRequestLine(later, kKey, kNow).ok());
  std::string bad_mac = signed_line;
  bad_mac[bad_mac.size() - 3] = bad_mac[bad_mac.size() - 3] == '0' ? '1' : '0';
  CHECK_FALSE(VerifyRequestLine(bad_mac, kKey, kNow).ok());

  CHECK_FALSE(VerifyRequestLine(signed_line, "another-key-of-enough-length-42", kNow).ok());

  CHECK(VerifyRequestLine(signed_line, kKey, kNow + rcuda::sched::kMaxRequestSkewMs).ok());
  rcuda::Status stale = VerifyRequestLine(signed_line, kKey, kNow + rcuda::sched::kMaxRequestSkewMs + 1000);
  CHECK_FALSE(stale.ok());
  CHECK_THAT(stale.message(), Catch::Contains("clock"));
  CHECK_FALSE(VerifyRequestLine(signed_line, kKey, kNow - rcuda::sched::kMaxRequestSkewMs - 1000).ok());

  for (const char* junk : {"", "}", "{", "garbage", R"({"auth":"x"})"}) {
    INFO(junk);
    CHECK_FALSE(VerifyRequestLine(junk, kKey, kNow).ok());
  }
}
