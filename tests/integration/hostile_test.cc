// Hostile peers (issue 9, the server's half): an unauthenticated network
// peer, a tenant's own client sending what the real client never would, or
// a tenant trying to take more than its share. Each TEST_CASE is one CTest
// entry (tests/integration/CMakeLists.txt) and checks that the daemon still
// serves, that a session opened before the attack is unaffected, that what
// the attack took is given back, and that the attacker got an error.
#include <signal.h>
#include <sys/socket.h>

#include <regex>

#include "hostile_support.h"
#include "protocol/version.h"

namespace rcuda::itest {
namespace {

void RequireStarted(const TestServer& server) {
  INFO("server log:\n" << server.Log());
  REQUIRE(server.started());
}

size_t CountLogLines(const TestServer& server, const std::string& words) {
  std::istringstream log(server.Log());
  std::string line;
  size_t n = 0;
  while (std::getline(log, line)) n += line.find(words) != std::string::npos;
  return n;
}

}  // namespace

// ---- A union without its table ---------------------------------------------

TEST_CASE("a request type without its table ends only its own session", "[hostile_union]") {
  TestServer server;
  RequireStarted(server);
  RawClient bystander;
  RequireOpen(bystander, server, Via::kTcp);
  RequireSessionWorks(bystander, server);
  const uint64_t resident = DaemonResident(server);

  // The first frame of a connection, read by the daemon itself: a Hello
  // type without a Hello table (before the fix: the daemon died of SIGSEGV).
  for (Via via : {Via::kTcp, Via::kShm}) {
    INFO("over " << ViaName(via));
    RawClient c;
    REQUIRE(c.Connect(server.port(), via).ok());
    REQUIRE(c.Send(wire::Request::Hello, NoTable).ok());
    CHECK(c.WaitClosed(milliseconds(10000)));
    REQUIRE(server.Alive());
  }
  CHECK(CountLogLines(server, "its first message is not a valid Hello") == 2);

  // Every other request type inside a session, read by the session's worker
  // (before the fix: each worker died of SIGSEGV).
  const int last = static_cast<int>(wire::Request::MAX);
  for (int type = 2; type <= last; ++type) {
    INFO("request type " << type);
    RawClient c;
    RequireOpen(c, server, Via::kTcp);
    REQUIRE(c.Send(static_cast<wire::Request>(type), NoTable).ok());
    CHECK(c.WaitClosed(milliseconds(10000)));
  }
  INFO("server log:\n" << server.Log());
  CHECK(WaitUntil([&] { return server.Sessions().size() == 1; }, milliseconds(15000)));
  CHECK(CountLogLines(server, "session ended: malformed message") == static_cast<size_t>(last - 1));
  CHECK(CountLogLines(server, "Segmentation fault") == 0);
  REQUIRE(server.Alive());

  RequireSessionWorks(bystander, server);
  RequireFreshSessionsWork(server);
  CheckDaemonResidentNear(server, resident);
}

}  // namespace rcuda::itest
