// The client library under a broken or hostile server: a CUDA program
// (hostile_client_probe.cu, through rcuda-run) talks to a fake server (TEST
// EQUIPMENT, hostile_client_fake_server.h) that answers one thing wrongly.
// Whatever it sends, the program must get a clear CUDA error (the session's
// error, naming the server) and neither crash nor hang. Each TEST_CASE is
// one CTest entry (tests/integration/CMakeLists.txt).
#include <catch2/catch.hpp>

#include <string>

#include "harness.h"
#include "hostile_client_fake_server.h"

namespace rcuda::itest {
namespace {

constexpr int kDevicesUnavailable = 46;  // cudaErrorDevicesUnavailable

struct Outcome {
  std::optional<int> exit;
  std::optional<std::string> result;  // the RESULT line
  std::string out, err;
};

// Runs the probe's `call` against `server` over TCP (the fake server has no
// shared-memory socket).
Outcome RunProbe(const FakeServer& server, const std::string& call, std::vector<std::string> extra_env = {},
                 milliseconds timeout = milliseconds(30000)) {
  extra_env.push_back("RCUDA_TRANSPORT=tcp");
  Program p(RCUDA_ITEST_HOSTILE_PROBE, {call}, ClientEnv(server.endpoint(), extra_env));
  Outcome o;
  o.exit = p.Wait(timeout);
  o.result = p.Line("RESULT " + call + " ");
  o.out = p.Stdout();
  o.err = p.Stderr();
  return o;
}

std::string Describe(const Outcome& o) {
  return "exit " + (o.exit ? std::to_string(*o.exit) : std::string("(timed out, killed)")) + "\n--- stdout:\n" +
         o.out + "--- stderr:\n" + o.err;
}

int ErrorOf(const std::string& result_line) {
  // "RESULT <call> <number> <name>"
  size_t a = result_line.find(' ', 7);
  return a == std::string::npos ? -1 : std::atoi(result_line.c_str() + a + 1);
}

// The program ended by itself, its call failed with the session's error,
// and its log names the server and `why`.
void RequireCleanError(const FakeServer& server, const Outcome& o, const std::string& why) {
  INFO(Describe(o));
  REQUIRE(o.exit == 0);  // not killed by a signal, not timed out
  REQUIRE(o.result);
  CHECK(ErrorOf(*o.result) == kDevicesUnavailable);
  CHECK(o.err.find("127.0.0.1:" + std::to_string(server.port())) != std::string::npos);
  CHECK(o.err.find(why) != std::string::npos);
}

}  // namespace

TEST_CASE("a reply naming its body's type without the body is a clear error", "[hostile-client-bodiless]") {
  struct Case {
    const char* call;
    wire::Request stripped;
    const char* why;
  };
  const Case cases[] = {
      {"malloc", wire::Request::Hello, "HelloReply"},
      {"malloc", wire::Request::MemAlloc, "without its MemAllocReply"},
      {"meminfo", wire::Request::MemGetInfo, "without its MemGetInfoReply"},
      {"stream", wire::Request::StreamCreate, "without its HandleReply"},
      {"event", wire::Request::EventCreate, "without its HandleReply"},
      {"elapsed", wire::Request::EventElapsedTime, "without its ElapsedTimeReply"},
      {"pitch", wire::Request::MallocPitch, "without its MallocPitchReply"},
      {"limit", wire::Request::Call, "without its CallReply"},
      {"pool", wire::Request::Call, "without its CallReply"},
      {"graph", wire::Request::GraphInstantiate, "without its HandleReply"},
      {"launch", wire::Request::ModuleLoad, "without its ModuleLoadReply"},
  };
  for (const Case& c : cases) {
    DYNAMIC_SECTION(c.call << " / " << wire::EnumNameRequest(c.stripped)) {
      FakeServer::Script script;
      script.bodiless = {c.stripped};
      FakeServer server(script);
      REQUIRE(server.port());
      Outcome o = RunProbe(server, c.call);
      // The frame layer's verifier (protocol/frame.cc) refuses a reply
      // whose body type names a table it lacks ("malformed reply"); the
      // session's checked accessors name the missing table should one get
      // past it. Either way the program gets the session's error.
      const std::string why = c.stripped == wire::Request::Hello ? "refused the session" : c.why;
      INFO(Describe(o));
      bool named = o.err.find(why) != std::string::npos || o.err.find("malformed reply") != std::string::npos;
      CHECK(named);
      RequireCleanError(server, o, "");
    }
  }
}

TEST_CASE("a call reply with fewer values than the call returns is a clear error", "[hostile-client-call-values]") {
  FakeServer::Script script;
  script.call_without_values = true;
  FakeServer server(script);
  REQUIRE(server.port());
  for (const char* call : {"limit", "pool"}) {
    Outcome o = RunProbe(server, call);
    RequireCleanError(server, o, "with 0 values instead of 1");
  }
}

TEST_CASE("a kernel parameter layout that is not the kernel's is refused before packing",
          "[hostile-client-param-layout]") {
  struct Case {
    const char* what;
    std::vector<KernelParamInfo> layout;
    const char* why;
  };
  std::vector<KernelParamInfo> many;
  for (uint32_t i = 0; i < 64; ++i) many.push_back({i * 8, 8});
  const Case cases[] = {
      // More parameters than the kernel has: packing would read past the
      // program's argument array.
      {"too many", many, "has 2 parameters in the program, but the server described 64"},
      // A parameter larger than the program's: packing would read (and send)
      // the program's memory beyond the argument.
      {"too large", {{0, 4}, {8, 4096}}, "is 8 bytes in the program, but the server said 4096"},
      // Beyond CUDA's parameter space.
      {"beyond 32 KiB", {{0, 4}, {40000, 8}}, "beyond CUDA's 32764-byte limit"},
      {"overlapping", {{0, 4}, {2, 8}}, "out of order"},
  };
  for (const Case& c : cases) {
    DYNAMIC_SECTION(c.what) {
      FakeServer::Script script;
      script.layout = c.layout;
      FakeServer server(script);
      REQUIRE(server.port());
      RequireCleanError(server, RunProbe(server, "launch"), c.why);
    }
  }
  SECTION("the true layout launches") {
    FakeServer server(FakeServer::Script{});
    REQUIRE(server.port());
    Outcome o = RunProbe(server, "launch");
    INFO(Describe(o));
    REQUIRE(o.exit == 0);
    REQUIRE(o.result);
    CHECK(ErrorOf(*o.result) == 0);
  }
}

TEST_CASE("a malformed host channel message ends the wait for host functions", "[hostile-client-host-channel]") {
  FakeServer::Script script;
  script.garbage_on_host_channel = true;
  FakeServer server(script);
  REQUIRE(server.port());
  RequireCleanError(server, RunProbe(server, "hostfunc"), "malformed message on the host channel");
}

TEST_CASE("a server that never answers the handshake fails the first call in time", "[hostile-client-silent]") {
  FakeServer::Script script;
  script.silent = true;
  FakeServer server(script);
  REQUIRE(server.port());
  auto start = Clock::now();
  Outcome o = RunProbe(server, "malloc", {"RCUDA_HANDSHAKE_TIMEOUT_MS=1500"}, milliseconds(20000));
  RequireCleanError(server, o, "no answer to the handshake within 1500 ms");
  CHECK(Clock::now() - start < milliseconds(15000));
}

}  // namespace rcuda::itest
