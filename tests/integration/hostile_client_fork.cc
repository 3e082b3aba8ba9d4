// fork() in a program using rcuda: the child gets a session of its own and
// the parent's session goes on (fork_probe.cu, through rcuda-run, against a
// private rcuda-server with the TEST backend). Before, the child wrote on
// its parent's connection with the parent's message ids and ended the
// parent's session.
#include <catch2/catch.hpp>

#include "harness.h"

namespace rcuda::itest {

TEST_CASE("a forked child gets its own session and its parent's goes on", "[hostile-client-fork]") {
  TestServer server;
  INFO("server log:\n" << server.Log());
  REQUIRE(server.started());
  // Shared memory (the server is local) and TCP.
  for (const char* transport : {"auto", "tcp"}) {
    DYNAMIC_SECTION("transport " << transport) {
      server.WaitForWarmWorker();
      Program p(RCUDA_ITEST_FORK_PROBE, {},
                ClientEnv(server.endpoint(), {std::string("RCUDA_TRANSPORT=") + transport, "RCUDA_LOG_LEVEL=info"}));
      auto rc = p.Wait(milliseconds(60000));
      INFO("--- stdout:\n" << p.Stdout() << "--- stderr:\n" << p.Stderr() << "--- server log:\n" << server.Log());
      CHECK(p.Line("CHILD OK"));
      CHECK(p.Line("PARENT OK"));
      REQUIRE(rc == 0);
      // The child said why it opened a session of its own.
      CHECK(p.Stderr().find("forked child") != std::string::npos);
    }
  }
}

}  // namespace rcuda::itest
