// The UCX transport as rcuda's client library uses it: what a client learns
// when its server does not upgrade (UcxConfirm, strict or not), and that
// loading UCX into a program leaves the program's fault signals alone.
#include <sys/socket.h>

#include <cstdio>

#include "protocol/tcp_transport.h"
#include "tests/transport/ucx_test_util.h"

namespace rcuda {
namespace {

using namespace ucx_test;

// A server without UCX: it reads the client's 5 bytes on the socket and
// answers "plain" there, as a daemon or worker that does not upgrade does.
struct PlainServer {
  std::unique_ptr<Listener> listener;
  std::thread thread;
  Status served;
  PlainServer() {
    REQUIRE(TcpListen("127.0.0.1", 0, &listener).ok());
    thread = std::thread([this] {
      std::unique_ptr<Connection> c;
      served = listener->Accept(&c);
      char hello[5];
      if (served.ok()) served = c->ReadExact(hello, sizeof hello);
      ConstBuffer b{"plain", 5};
      if (served.ok()) served = c->WriteAll(std::span(&b, 1));
      char end;
      if (served.ok()) (void)c->ReadExact(&end, 1);  // until the client closes
    });
  }
  ~PlainServer() {
    listener->Close();
    thread.join();
  }
};

// Connects to a PlainServer, says hello and reads its answer.
std::unique_ptr<Connection> TalkToPlainServer(PlainServer& server, bool required) {
  UcxOptions options;
  options.required = required;
  std::unique_ptr<Connection> c;
  REQUIRE(UcxConnect("127.0.0.1", server.listener->Port(), options, &c).ok());
  ConstBuffer hello{"hello", 5};
  REQUIRE(c->WriteAll(std::span(&hello, 1)).ok());
  char answer[5];
  REQUIRE(c->ReadExact(answer, sizeof answer).ok());
  CHECK(std::string(answer, 5) == "plain");
  return c;
}

// The first line ucx_peer prints in `mode`, with `env` before it.
std::string PeerSays(const std::string& env, const std::string& mode) {
  // Port 1: nobody listens; loading UCX is what counts.
  std::string command = "env -u UCX_ERROR_SIGNALS " + env + " " + UCX_PEER_PATH + " " + mode + " 1 2>/dev/null";
  FILE* out = popen(command.c_str(), "r");
  REQUIRE(out);
  char line[128] = {};
  if (!std::fgets(line, sizeof line, out)) line[0] = 0;
  pclose(out);
  std::string said = line;
  while (!said.empty() && said.back() == '\n') said.pop_back();
  return said;
}

}  // namespace

TEST_CASE("a client whose server answers without UCX: a warning, or an error when UCX was demanded", "[ucx]") {
  SECTION("preferred: the session goes on over the socket, with a warning") {
    PlainServer server;
    auto c = TalkToPlainServer(server, /*required=*/false);
    std::string warning;
    CHECK(UcxConfirm(*c, &warning).ok());
    CHECK_THAT(warning, Catch::Contains("answered without UCX"));
    CHECK_THAT(warning, Catch::Contains("runs over TCP"));
    // And the stream works on: another round over the socket.
    ConstBuffer more{"x", 1};
    CHECK(c->WriteAll(std::span(&more, 1)).ok());
  }
  SECTION("demanded: an error that says why") {
    PlainServer server;
    auto c = TalkToPlainServer(server, /*required=*/true);
    std::string warning;
    Status s = UcxConfirm(*c, &warning);
    CHECK_FALSE(s.ok());
    CHECK_THAT(s.message(), Catch::Contains("answered without UCX"));
    CHECK_THAT(s.message(), Catch::Contains("ucx://"));
  }
  SECTION("upgraded: nothing to say") {
    Pair p;
    Connect(&p);
    std::string warning;
    CHECK(UcxConfirm(*p.client, &warning).ok());
    CHECK(warning.empty());
  }
}

TEST_CASE("a program that loads UCX through rcuda keeps its own fault signals", "[ucx]") {
  // UCX installs handlers for SIGSEGV and the like as it loads, unless
  // UCX_ERROR_SIGNALS is empty: rcuda's client asks for that (only when the
  // user has not set the variable).
  CHECK(PeerSays("", "signals-leave") == "SIGSEGV default");
  // What UCX does by itself (so the check above can fail).
  CHECK(PeerSays("", "signals-keep") == "SIGSEGV handled");
  // The user's own setting wins.
  CHECK(PeerSays("UCX_ERROR_SIGNALS=SEGV", "signals-leave") == "SIGSEGV handled");
}

}  // namespace rcuda
