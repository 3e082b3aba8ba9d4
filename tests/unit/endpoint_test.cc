// Parsing GPU endpoints as rCUDA writes them: host[@port][:gpu]
// (common/endpoint.h).
#include <catch2/catch.hpp>

#include "common/endpoint.h"

namespace rcuda {

TEST_CASE("endpoints parse into host, port and GPU", "[endpoint]") {
  struct Case {
    const char* text;
    const char* host;
    uint16_t port;
    int gpu;
  };
  const Case cases[] = {
      {"10.0.0.7", "10.0.0.7", 8308, 0},
      {"gpu3@9000:1", "gpu3", 9000, 1},
      {"gpu3@9000", "gpu3", 9000, 0},
      {"node-12.cluster.example:3", "node-12.cluster.example", 8308, 3},
      {"h@1", "h", 1, 0},
      {"h@65535:0", "h", 65535, 0},
      {"[::1]", "::1", 8308, 0},
      {"[::1]@8308:0", "::1", 8308, 0},
      {"[fe80::1:2]:7", "fe80::1:2", 8308, 7},
      {"[2001:db8::5]@9999", "2001:db8::5", 9999, 0},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    Endpoint e;
    Status s = ParseEndpoint(c.text, &e);
    INFO(s.ToString());
    REQUIRE(s.ok());
    CHECK(e.host == c.host);
    CHECK(e.port == c.port);
    CHECK(e.gpu == c.gpu);
  }
}

TEST_CASE("a scheme before an endpoint names its transport", "[endpoint]") {
  struct Case {
    const char* text;
    const char* transport;
    const char* host;
    uint16_t port;
    int gpu;
  };
  const Case cases[] = {
      {"ucx://gpunode1@8308:0", "ucx", "gpunode1", 8308, 0},
      {"tcp://10.0.0.7", "tcp", "10.0.0.7", 8308, 0},
      {"shm://127.0.0.1@9000:1", "shm", "127.0.0.1", 9000, 1},
      {"ucx://[fe80::1]@7:2", "ucx", "fe80::1", 7, 2},
      {"future-tls+v2://h", "future-tls+v2", "h", 8308, 0},  // checked by the client, not here
      {"gpu3@9000:1", "", "gpu3", 9000, 1},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    Endpoint e;
    Status s = ParseEndpoint(c.text, &e);
    INFO(s.ToString());
    REQUIRE(s.ok());
    CHECK(e.transport == c.transport);
    CHECK(e.host == c.host);
    CHECK(e.port == c.port);
    CHECK(e.gpu == c.gpu);
    Endpoint again;
    REQUIRE(ParseEndpoint(e.ToString(), &again).ok());
    CHECK(again.transport == e.transport);
    CHECK(again.host == e.host);
  }
  Endpoint e;
  REQUIRE(ParseEndpoint("ucx://gpu1@8308:0", &e).ok());
  CHECK(e.ToString() == "ucx://gpu1@8308:0");
}

TEST_CASE("malformed endpoints are errors that quote the text", "[endpoint]") {
  const char* bad[] = {
      "",             // no host
      "@9000",        // no host
      ":1",           // no host
      "h@",           // empty port
      "h@0",          // port 0
      "h@65536",      // port too large
      "h@-1",         // negative port
      "h@12x",        // trailing garbage in the port
      "h:",           // empty GPU
      "h:x",          // GPU not a number
      "h:-1",         // negative GPU
      "h@9000:1:2",   // two GPUs
      "h:1@9000",     // port after GPU
      "[::1",         // unclosed bracket
      "[]",           // empty bracketed host
      "[::1]x",       // garbage after the bracket
      "h@ 9000",      // space
      "://h",         // empty scheme
      "UCX://h",      // a transport's name is lower case
      "1ucx://h",     // a scheme starts with a letter
      "u cx://h",     // space in the scheme
      "ucx://",       // no host after the scheme
      "ucx:/h",       // not a scheme: ':' then a bad GPU index
  };
  for (const char* text : bad) {
    INFO("'" << text << "'");
    Endpoint e;
    e.host = "unchanged";
    Status s = ParseEndpoint(text, &e);
    CHECK_FALSE(s.ok());
    CHECK(s.ToCudaError() == kCudaErrorInvalidValue);
    CHECK_THAT(s.message(), Catch::Contains(std::string("'") + text + "'"));
    CHECK(e.host == "unchanged");  // untouched on error
  }
}

TEST_CASE("an endpoint printed with ToString parses back to itself", "[endpoint]") {
  for (const char* text : {"10.1.2.3@4000:2", "[::1]@8308:1", "example.org"}) {
    INFO(text);
    Endpoint e, again;
    REQUIRE(ParseEndpoint(text, &e).ok());
    REQUIRE(ParseEndpoint(e.ToString(), &again).ok());
    CHECK(again.host == e.host);
    CHECK(again.port == e.port);
    CHECK(again.gpu == e.gpu);
  }
  Endpoint v6;
  REQUIRE(ParseEndpoint("[::1]:2", &v6).ok());
  CHECK(v6.ToString() == "[::1]@8308:2");
}

}  // namespace rcuda
