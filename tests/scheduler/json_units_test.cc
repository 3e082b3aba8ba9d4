#include <catch2/catch.hpp>

#include "scheduler/json.h"
#include "scheduler/units.h"

using namespace rcuda::sched;

TEST_CASE("JSON round-trips objects, arrays, strings and numbers", "[json]") {
  Json value;
  REQUIRE(ParseJson(R"( {"a":1,"b":[true,false,null,-2.5e3],"c":"x\"y\\z\n\u00e9\ud83d\ude00","d":{},"big":9007199254740993} )",
                    &value)
              .ok());
  REQUIRE(value.is_object());
  CHECK(value.Find("a")->AsInt() == 1);
  CHECK(value.Find("b")->items().size() == 4);
  CHECK(value.Find("b")->items()[3].AsDouble() == -2500.0);
  CHECK_FALSE(value.Find("b")->items()[3].is_integer());
  CHECK(value.Find("c")->AsString() == "x\"y\\z\n\xc3\xa9\xf0\x9f\x98\x80");
  CHECK(value.Find("big")->AsInt() == 9007199254740993LL);
  CHECK(value.Find("missing") == nullptr);
  Json again;
  REQUIRE(ParseJson(value.Dump(), &again).ok());
  CHECK(again.Dump() == value.Dump());
}

TEST_CASE("malformed JSON is refused with a message", "[json]") {
  Json value;
  for (const char* bad : {"", "{", "{\"a\"}", "{\"a\":}", "[1,]", "{\"a\":1,}", "nul", "\"abc", "01", "1.", "-",
                          "{\"a\":1} x", "\"\\x\"", "\"\\ud800\"", "{'a':1}", "\"tab\there\""}) {
    INFO(bad);
    CHECK_FALSE(ParseJson(bad, &value).ok());
  }
  std::string deep(100, '[');
  CHECK_FALSE(ParseJson(deep + std::string(100, ']'), &value).ok());
}

TEST_CASE("typed member access reports missing and mistyped members", "[json]") {
  Json value;
  REQUIRE(ParseJson(R"({"n":5,"s":"x","f":1.5})", &value).ok());
  int64_t n = 0;
  std::string s;
  CHECK(GetInt(value, "n", &n).ok());
  CHECK(n == 5);
  CHECK_FALSE(GetInt(value, "s", &n).ok());
  CHECK_FALSE(GetInt(value, "f", &n).ok());
  CHECK_FALSE(GetInt(value, "none", &n).ok());
  CHECK(GetOptionalInt(value, "none", &n).ok());
  CHECK(GetString(value, "s", &s).ok());
  CHECK_FALSE(GetString(value, "n", &s).ok());
}

TEST_CASE("sizes parse with binary units", "[units]") {
  uint64_t bytes = 0;
  CHECK((ParseBytes("1G", &bytes).ok() && bytes == (1ull << 30)));
  CHECK((ParseBytes("512M", &bytes).ok() && bytes == (512ull << 20)));
  CHECK((ParseBytes("1.5GiB", &bytes).ok() && bytes == (3ull << 29)));
  CHECK((ParseBytes("80g", &bytes).ok() && bytes == (80ull << 30)));
  CHECK((ParseBytes("4096", &bytes).ok() && bytes == 4096));
  CHECK((ParseBytes("2 TB", &bytes).ok() && bytes == (2ull << 40)));
  CHECK_FALSE(ParseBytes("", &bytes).ok());
  CHECK_FALSE(ParseBytes("G", &bytes).ok());
  CHECK_FALSE(ParseBytes("1X", &bytes).ok());
  CHECK_FALSE(ParseBytes("-1G", &bytes).ok());
  CHECK(FormatBytes(1ull << 30) == "1 GiB");
  CHECK(FormatBytes(3ull << 29) == "1.5 GiB");
  CHECK(FormatBytes(100) == "100 B");
}

TEST_CASE("durations parse to milliseconds", "[units]") {
  int64_t ms = 0;
  CHECK((ParseDurationMs("30", &ms).ok() && ms == 30000));
  CHECK((ParseDurationMs("500ms", &ms).ok() && ms == 500));
  CHECK((ParseDurationMs("1.5s", &ms).ok() && ms == 1500));
  CHECK((ParseDurationMs("5m", &ms).ok() && ms == 300000));
  CHECK((ParseDurationMs("2h", &ms).ok() && ms == 7200000));
  CHECK_FALSE(ParseDurationMs("soon", &ms).ok());
  CHECK_FALSE(ParseDurationMs("5d", &ms).ok());
}

TEST_CASE("an object may hold at most 1024 members", "[json][security]") {
  std::string object = "{";
  for (int i = 0; i < 1024; ++i) object += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":" + std::to_string(i);
  Json value;
  REQUIRE(ParseJson(object + "}", &value).ok());
  CHECK(value.members().size() == 1024);
  rcuda::Status s = ParseJson(object + ",\"one-more\":0}", &value);
  CHECK_FALSE(s.ok());
  CHECK(s.message().find("too many members") != std::string::npos);
}

TEST_CASE("numbers beyond int64 have no integer value (found by the fuzz targets)", "[json][security]") {
  Json value;
  REQUIRE(ParseJson("[1e300,-1e300,9223372036854775808]", &value).ok());
  for (const Json& item : value.items()) {
    CHECK_FALSE(item.is_integer());
    CHECK(item.AsInt() == 0);  // was an undefined double-to-int64 conversion
  }
}
