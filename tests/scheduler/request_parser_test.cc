#include <catch2/catch.hpp>

#include <chrono>

#include "scheduler/request_auth.h"
#include "scheduler/request_parser.h"
#include "scheduler/wire.h"

using namespace rcuda::sched;

namespace {

constexpr int64_t kNow = 1'764'263'000'000;
const std::string kClient = "client-key-0123456789abcdef";
const std::string kNode = "node-key-0123456789abcdef";
const std::string kOperator = "operator-key-0123456789abcdef";

RequestKeys AllKeys() {
  RequestKeys keys;
  keys.client = kClient;
  keys.node = kNode;
  keys.operator_key = kOperator;
  return keys;
}

rcuda::Status Parse(const std::string& line, const RequestKeys& keys, ParsedRequest* out) {
  return ParseRequestLine(line, keys, RequestLimits{}, kNow, out);
}

const std::string kReport = R"({"op":"report","node":"n1","host":"10.0.0.7","port":8308,"gpus":[]})";

}  // namespace

TEST_CASE("the key that signed a line is its sender's role", "[parser][auth][security]") {
  RequestKeys keys = AllKeys();
  ParsedRequest p;
  const std::string request = R"({"op":"request","mem":1024,"id":7})";
  REQUIRE(Parse(SignRequestLine(request, kClient, kNow), keys, &p).ok());
  CHECK(p.roles == kRoleClient);
  CHECK(p.op == RequestOp::kRequest);
  CHECK(p.echo.AsInt() == 7);
  REQUIRE(Parse(SignRequestLine(request, kOperator, kNow), keys, &p).ok());
  CHECK(p.is_operator());
  REQUIRE(Parse(SignRequestLine(kReport, kNode, kNow), keys, &p).ok());
  CHECK(p.roles == kRoleNode);

  // A node may only report; a client may not report once there is a node key.
  CHECK_FALSE(Parse(SignRequestLine(request, kNode, kNow), keys, &p).ok());
  CHECK(p.failure == RequestFailure::kForbidden);
  CHECK(p.echo.AsInt() == 7);
  CHECK_FALSE(Parse(SignRequestLine(kReport, kClient, kNow), keys, &p).ok());
  CHECK(p.failure == RequestFailure::kForbidden);
  REQUIRE(Parse(SignRequestLine(kReport, kOperator, kNow), keys, &p).ok());

  // Unsigned, signed with another key, or stale: unauthenticated.
  CHECK_FALSE(Parse(request, keys, &p).ok());
  CHECK(p.failure == RequestFailure::kUnauthenticated);
  CHECK_FALSE(Parse(SignRequestLine(request, "another-key-0123456789", kNow), keys, &p).ok());
  CHECK(p.failure == RequestFailure::kUnauthenticated);
  CHECK_FALSE(Parse(SignRequestLine(request, kClient, kNow - 2 * kMaxRequestSkewMs), keys, &p).ok());
  CHECK(p.failure == RequestFailure::kUnauthenticated);
  // A "ts" at the far end of int64 neither overflows nor passes.
  CHECK_FALSE(Parse(SignRequestLine(request, kClient, INT64_MIN), keys, &p).ok());
  CHECK_FALSE(Parse(SignRequestLine(request, kClient, INT64_MAX), keys, &p).ok());
}

TEST_CASE("without keys every line is a client's; without a node key clients may report", "[parser][auth]") {
  ParsedRequest p;
  REQUIRE(Parse(R"({"op":"status","leases":false})", RequestKeys{}, &p).ok());
  CHECK(p.roles == kRoleClient);
  CHECK_FALSE(p.with_leases);
  REQUIRE(Parse(kReport, RequestKeys{}, &p).ok());
  RequestKeys client_only;
  client_only.client = kClient;
  REQUIRE(Parse(SignRequestLine(kReport, kClient, kNow), client_only, &p).ok());
  // An operator key alone: unsigned lines are clients, signed ones operators.
  RequestKeys operator_only;
  operator_only.operator_key = kOperator;
  REQUIRE(Parse(R"({"op":"release","lease":"abc"})", operator_only, &p).ok());
  CHECK_FALSE(p.is_operator());
  REQUIRE(Parse(SignRequestLine(R"({"op":"release","lease":"abc"})", kOperator, kNow), operator_only, &p).ok());
  CHECK(p.is_operator());
}

TEST_CASE("request fields are checked and bounded", "[parser][security]") {
  ParsedRequest p;
  RequestKeys none;
  REQUIRE(Parse(R"({"op":"request","mem":1024,"gpus":2,"wait_ms":-1,"key":"k1","secret":"0123456789abcdef0123"})",
                none, &p)
              .ok());
  CHECK(p.gpus == 2);
  CHECK(p.wait_ms == RequestLimits{}.max_wait_ms);
  CHECK(p.ttl_ms == RequestLimits{}.default_ttl_ms);
  CHECK(p.secret == "0123456789abcdef0123");
  for (const char* bad :
       {R"({"op":"request"})", R"({"op":"request","mem":0})", R"({"op":"request","mem":1,"gpus":17})",
        R"({"op":"request","mem":1,"gpus":0})", R"({"op":"request","mem":1,"ttl_ms":0})",
        R"({"op":"request","mem":1,"ttl_ms":99999999999})", R"({"op":"request","mem":1,"key":"a b"})",
        R"({"op":"request","mem":1,"secret":"short"})", R"({"op":"request","mem":1,"secret":"0123456789abcdef';x"})",
        R"({"op":"release"})", R"({"op":"release","lease":"a b"})", R"({"op":"release","lease":7})",
        R"({"op":"renew","lease":"abc","ttl_ms":-5})", R"({"op":"status","leases":"yes"})", R"({"op":42})",
        R"({"op":"fly"})", R"([1,2])", "garbage", R"({"op":"report","node":"n","host":"a'b","port":1,"gpus":[]})",
        R"({"op":"report","node":"n","host":"h","port":1,"gpus":[],"revoked_after":-1})"}) {
    INFO(bad);
    CHECK_FALSE(Parse(bad, none, &p).ok());
    CHECK(p.failure == RequestFailure::kMalformed);
  }
  REQUIRE(Parse(R"({"op":"report","node":"n","host":"h","port":1,"gpus":[],"revoked_after":5,"revoked_epoch":"e"})",
                none, &p)
              .ok());
  CHECK(p.wants_revocations);
  CHECK(p.revoked_after == 5);
  CHECK(p.revoked_epoch == "e");
}

TEST_CASE("hostile lines cost little: oversized lines, wide objects, deep nesting", "[parser][security]") {
  ParsedRequest p;
  CHECK_FALSE(Parse(std::string(kMaxLineBytes + 1, ' '), RequestKeys{}, &p).ok());
  // 90,000 members in one object: before the member bound, Json::Set's
  // linear look-up made this take minutes of the event loop's time.
  std::string wide = "{";
  for (int i = 0; i < 90000; ++i) wide += (i ? ",\"m" : "\"m") + std::to_string(i) + "\":0";
  wide += "}";
  REQUIRE(wide.size() < kMaxLineBytes);
  auto start = std::chrono::steady_clock::now();
  CHECK_FALSE(Parse(wide, RequestKeys{}, &p).ok());
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
  CHECK(p.failure == RequestFailure::kMalformed);
  std::string deep(100000, '[');
  CHECK_FALSE(Parse(deep, RequestKeys{}, &p).ok());
}
