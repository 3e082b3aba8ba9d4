#include <catch2/catch.hpp>

#include "scheduler/host_name.h"
#include "scheduler/json.h"
#include "scheduler/wire.h"

using namespace rcuda::sched;

TEST_CASE("advertised hosts: RFC 1123 names, IPv4 and IPv6 only", "[host][security]") {
  std::string host;
  for (const char* good : {"gpu1", "gpu-node-7.cluster.example", "10.0.0.7", "127.0.0.1", "::1", "fe80::1",
                           "2001:db8::42", "a", "x1.y2", "1gpu.example"}) {
    INFO(good);
    CHECK(IsValidAdvertisedHost(good));
    REQUIRE(NormalizeAdvertisedHost(good, &host).ok());
    CHECK(host == good);
  }
  REQUIRE(NormalizeAdvertisedHost("[::1]", &host).ok());
  CHECK(host == "::1");  // stored bare: the endpoint syntax adds the brackets
  REQUIRE(NormalizeAdvertisedHost("[2001:db8::42]", &host).ok());
  CHECK(host == "2001:db8::42");
  for (const char* bad : {"", "x';touch /tmp/p;'", "h;x", "h x", "$(reboot)", "`id`", "gpu_1", "-gpu", "gpu-",
                          "a..b", ".a", "a.", "10.0.0.256", "10.0.0", "1.2.3.4.5", "[10.0.0.1]", "[::1", "::1]",
                          "[gpu1]", "fe80::1%eth0", "h\n", "h\"", "h'", "h\\", "h*", "h?", "h|x", "h&", "h>x"}) {
    INFO(bad);
    CHECK_FALSE(IsValidAdvertisedHost(bad));
    CHECK_FALSE(NormalizeAdvertisedHost(bad, &host).ok());
  }
  CHECK_FALSE(IsValidAdvertisedHost(std::string(64, 'a')));  // a label of 64
  CHECK(IsValidAdvertisedHost(std::string(63, 'a')));
  std::string long_name;
  for (int i = 0; i < 64; ++i) long_name += "abc.";
  long_name += "x";  // 257 characters
  CHECK_FALSE(IsValidAdvertisedHost(long_name));
}

TEST_CASE("ssgmd refuses a report whose host would run commands in a shell", "[host][wire][security]") {
  // What a hostile or broken monitor could send: before, only ' ', ';' and
  // '=' were refused, so this host reached ssgm's eval output.
  Json report;
  REQUIRE(ParseJson(R"({"op":"report","node":"n1","host":"x'$(touch${IFS}/tmp/pwned)'","port":8308,"gpus":[]})",
                    &report)
              .ok());
  NodeReport decoded;
  rcuda::Status s = DecodeNodeReport(report, &decoded);
  CHECK_FALSE(s.ok());
  CHECK(s.message().find("bad host") != std::string::npos);
  // Bracketed IPv6 is accepted and stored bare.
  REQUIRE(ParseJson(R"({"op":"report","node":"n1","host":"[::1]","port":8308,"gpus":[]})", &report).ok());
  REQUIRE(DecodeNodeReport(report, &decoded).ok());
  CHECK(decoded.host == "::1");
}

TEST_CASE("reports are bounded: GPU and session counts, text sizes, control characters", "[wire][security]") {
  NodeReport decoded;
  Json json;
  std::string many_gpus = R"({"node":"n","host":"h","port":1,"gpus":[)";
  for (size_t i = 0; i <= kMaxGpusPerReport; ++i) {
    many_gpus += (i ? "," : "") + std::string(R"({"index":)") + std::to_string(i) + R"(,"total":1,"free":1})";
  }
  many_gpus += "]}";
  REQUIRE(ParseJson(many_gpus, &json).ok());
  CHECK_FALSE(DecodeNodeReport(json, &decoded).ok());
  std::string many_sessions = R"({"node":"n","host":"h","port":1,"gpus":[],"sessions":[)";
  for (size_t i = 0; i <= kMaxSessionsPerReport; ++i) many_sessions += (i ? ",{}" : "{}");
  many_sessions += "]}";
  REQUIRE(ParseJson(many_sessions, &json).ok());
  CHECK_FALSE(DecodeNodeReport(json, &decoded).ok());
  for (const char* bad : {R"({"node":"n","host":"h","port":1,"gpus":[{"index":0,"total":1,"free":1,"name":"\u001b[2J"}]})",
                          R"({"node":"n","host":"h","port":1,"source":"a\nb","gpus":[]})",
                          R"({"node":"n","host":"h","port":1,"gpus":[],"sessions":[{"gpu":-1}]})",
                          R"({"node":"n","host":"h","port":1,"gpus":[],"sessions":[{"peer":"\u0007"}]})"}) {
    INFO(bad);
    REQUIRE(ParseJson(bad, &json).ok());
    CHECK_FALSE(DecodeNodeReport(json, &decoded).ok());
  }
}
