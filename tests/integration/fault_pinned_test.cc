// A client killed while its pinned copies are under way: over shared memory
// its pinned buffer is a host segment the worker maps and has registered
// with the driver (protocol/host_segment.h). The worker must release it and
// end, and the daemon go on serving. The fault_tcp variant checks that over
// TCP the buffer stays the client's.
#include <catch2/catch.hpp>

#include <signal.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include "harness.h"

namespace rcuda::itest {

TEST_CASE("a client SIGKILLed during pinned copies: its worker releases the segment and ends", "[client_killed_pinned]") {
  TestServer server;
  INFO("server log:\n" << server.Log());
  REQUIRE(server.started());
  server.WaitForWarmWorker();
  Program copier(BuildPaths::Probe(), {"pinned-copy", "64"}, ClientEnv(server.endpoint()));
  if (!copier.WaitForLine("COPYING", milliseconds(60000))) FAIL("no COPYING line; server log:\n" << server.Log());
  REQUIRE(WaitUntil([&] { return server.Sessions().size() == 1; }, milliseconds(5000)));
  const SessionEntry session = server.Sessions()[0];
  // Over shared memory the program's pinned buffer is a host segment the
  // worker maps (protocol/host_segment.h); over TCP it stays the client's.
  const char* transport = std::getenv("RCUDA_TRANSPORT");
  const bool shm = !(transport && std::string(transport) == "tcp");
  std::ifstream maps("/proc/" + std::to_string(session.worker_pid) + "/maps");
  std::string text((std::istreambuf_iterator<char>(maps)), std::istreambuf_iterator<char>());
  CHECK((text.find("rcuda-pinned") != std::string::npos) == shm);
  copier.Kill(SIGKILL);
  REQUIRE(copier.Wait(milliseconds(10000)) == 128 + SIGKILL);

  // Its worker unregisters and unmaps the segment as its session ends, and
  // ends; the daemon goes on serving.
  CHECK(WaitUntil([&] { return !ProcessExists(session.worker_pid); }, milliseconds(10000)));
  CHECK(WaitUntil([&] { return server.Sessions().empty(); }, milliseconds(10000)));
  CHECK(server.Alive());
  server.WaitForWarmWorker();
  Program after(BuildPaths::Probe(), {"compute", "1"}, ClientEnv(server.endpoint()));
  CHECK(after.Wait(milliseconds(60000)) == 0);
}

}  // namespace rcuda::itest
