// Sessions over UCX through the real client library, daemon and workers
// (TEST backend), with whatever UCX_TLS CTest gives (tcp): the server offers
// UCX on its TCP port and reports what each session runs on; a server
// started with --no-ucx answers plainly, and the client goes on over TCP
// with a warning (RCUDA_TRANSPORT=ucx) or fails, saying why ("ucx://").
#include <catch2/catch.hpp>

#include "harness.h"

namespace rcuda::itest {
namespace {

std::string Describe(const Program& p, const TestServer& server) {
  return "--- program stdout:\n" + p.Stdout() + "--- program stderr:\n" + p.Stderr() + "--- server log:\n" +
         server.Log();
}

std::string StatusFile(const TestServer& server) { return ReadFile(server.dir() + "/status.json"); }

}  // namespace

TEST_CASE("a session over ucx:// runs on UCX, and the server says which of its transports", "[ucx-session]") {
  TestServer server;
  INFO("server log:\n" << server.Log());
  REQUIRE(server.started());
  CHECK(server.WaitForLogLine({"UCX offered on the tcp port"}, milliseconds(5000)));
  server.WaitForWarmWorker();
  Program p(BuildPaths::Probe(), {"two-phase"}, ClientEnv("ucx://" + server.endpoint()));
  if (!p.WaitForLine("PHASE1 OK", milliseconds(60000))) FAIL(Describe(p, server));
  // The worker's report reaches the status file (the daemon's reaper takes
  // it within 100 ms).
  const std::string tls = std::getenv("UCX_TLS") ? std::getenv("UCX_TLS") : "";
  const std::string expected = tls.rfind("sm", 0) == 0 ? "memory" : "tcp/lo";
  CHECK(WaitUntil([&] { return StatusFile(server).find("\"transport_detail\":\"") != std::string::npos &&
                               StatusFile(server).find(expected) != std::string::npos; },
                  milliseconds(10000)));
  const std::string status = StatusFile(server);
  INFO("status file: " << status);
  CHECK_THAT(status, Catch::Contains("\"transport\":\"ucx\""));
  CHECK(server.WaitForLogLine({"runs on UCX", expected}, milliseconds(5000)));
  p.SendLine("GO");
  auto rc = p.Wait(milliseconds(60000));
  INFO(Describe(p, server));
  CHECK(rc == 0);
  CHECK(p.Line("PHASE2 OK"));
  CHECK_THAT(p.Stderr(), !Catch::Contains("without UCX"));
}

TEST_CASE("a server without UCX: RCUDA_TRANSPORT=ucx goes on over TCP with a warning, ucx:// fails",
          "[ucx-declined]") {
  TestServer::Options options;
  options.extra_args = {"--no-ucx"};
  TestServer server(options);
  INFO("server log:\n" << server.Log());
  REQUIRE(server.started());
  CHECK_THAT(server.Log(), !Catch::Contains("UCX offered"));

  SECTION("preferred") {
    server.WaitForWarmWorker();
    Program p(BuildPaths::Probe(), {"two-phase"}, ClientEnv(server.endpoint(), {"RCUDA_TRANSPORT=ucx"}));
    if (!p.WaitForLine("PHASE1 OK", milliseconds(60000))) FAIL(Describe(p, server));
    CHECK(WaitUntil([&] { return StatusFile(server).find("\"transport\":\"tcp\"") != std::string::npos; },
                    milliseconds(5000)));
    p.SendLine("GO");
    auto rc = p.Wait(milliseconds(60000));
    INFO(Describe(p, server));
    CHECK(rc == 0);
    CHECK(p.Line("PHASE2 OK"));
    CHECK_THAT(p.Stderr(), Catch::Contains("answered without UCX") && Catch::Contains("runs over TCP"));
  }
  SECTION("demanded") {
    server.WaitForWarmWorker();
    Program p(BuildPaths::Probe(), {"compute", "3"}, ClientEnv("ucx://" + server.endpoint()));
    auto rc = p.Wait(milliseconds(60000));
    INFO(Describe(p, server));
    CHECK(rc != 0);
    CHECK_FALSE(p.Line("OK 3"));
    CHECK_THAT(p.Stderr(), Catch::Contains("answered without UCX") && Catch::Contains("demands UCX"));
  }
  // Either way the server goes on serving.
  server.WaitForWarmWorker();
  Program fresh(BuildPaths::Probe(), {"compute", "3"}, ClientEnv(server.endpoint(), {"RCUDA_TRANSPORT=tcp"}));
  CHECK(fresh.Wait(milliseconds(60000)) == 0);
}

TEST_CASE("an endpoint naming an unknown transport is refused, naming the ones there are", "[ucx-scheme]") {
  TestServer server;
  REQUIRE(server.started());
  Program p(BuildPaths::Probe(), {"compute", "3"}, ClientEnv("carrier-pigeon://" + server.endpoint()));
  auto rc = p.Wait(milliseconds(60000));
  INFO(Describe(p, server));
  CHECK(rc != 0);
  CHECK_THAT(p.Stderr(), Catch::Contains("unknown transport 'carrier-pigeon'") && Catch::Contains("tcp, shm, ucx"));
}

// UCX is not encrypted: a client told to use TLS must not carry its session
// (token, data) over UCX, nor switch quietly to another transport than the
// one named. Refused before anything is sent, so no UCX is needed here.
TEST_CASE("with RCUDA_TLS set, UCX is refused, saying it is not encrypted", "[ucx-scheme]") {
  TestServer server;
  REQUIRE(server.started());
  SECTION("ucx://") {
    Program p(BuildPaths::Probe(), {"compute", "3"}, ClientEnv("ucx://" + server.endpoint(), {"RCUDA_TLS=1"}));
    auto rc = p.Wait(milliseconds(60000));
    INFO(Describe(p, server));
    CHECK(rc != 0);
    CHECK_THAT(p.Stderr(), Catch::Contains("RCUDA_TLS is set, but the endpoint's scheme names UCX, which is not "
                                           "encrypted"));
  }
  SECTION("RCUDA_TRANSPORT=ucx") {
    Program p(BuildPaths::Probe(), {"compute", "3"},
              ClientEnv(server.endpoint(), {"RCUDA_TLS=1", "RCUDA_TRANSPORT=ucx"}));
    auto rc = p.Wait(milliseconds(60000));
    INFO(Describe(p, server));
    CHECK(rc != 0);
    CHECK_THAT(p.Stderr(), Catch::Contains("RCUDA_TLS is set, but RCUDA_TRANSPORT names UCX, which is not encrypted"));
  }
}

}  // namespace rcuda::itest
