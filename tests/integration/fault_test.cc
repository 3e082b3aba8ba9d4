// Fault tests through the real client library, protocol and server (TEST
// backend): what happens when the server is missing or dies, when a client
// sends garbage or dies mid-copy, when a worker crashes, and when a program
// uses pointers it never allocated. Each TEST_CASE is one CTest entry
// (tests/integration/CMakeLists.txt); programs run through rcuda-run.
#include <catch2/catch.hpp>

#include <signal.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <regex>
#include <sstream>
#include <thread>

#include "harness.h"
#include "protocol/version.h"

namespace rcuda::itest {
namespace {

// The number in "<WORD> <error> <ms>" lines the probe prints.
double MsOf(const std::string& line) {
  std::istringstream in(line);
  std::string word, error;
  double ms = -1;
  in >> word >> error >> ms;
  return ms;
}

std::string ErrorOf(const std::string& line) {
  std::istringstream in(line);
  std::string word, error;
  in >> word >> error;
  return error;
}

// Everything a failing test needs to see.
std::string Describe(const Program& p, const TestServer* server = nullptr) {
  std::string s = "--- program stdout:\n" + p.Stdout() + "--- program stderr:\n" + p.Stderr();
  if (server) s += "--- server log:\n" + server->Log();
  return s;
}

void RequireStarted(const TestServer& server) {
  INFO("server log:\n" << server.Log());
  REQUIRE(server.started());
}

// A fresh session on `server` computes correctly.
void RequireFreshSessionComputes(const TestServer& server) {
  server.WaitForWarmWorker();
  Program fresh(BuildPaths::Probe(), {"compute", "3"}, ClientEnv(server.endpoint()));
  auto rc = fresh.Wait(milliseconds(60000));
  INFO(Describe(fresh, &server));
  REQUIRE(rc == 0);
  CHECK(fresh.Line("OK 3"));
}

// A TCP port that drops every connection attempt: a listening socket with a
// backlog of 0 whose queue is filled and never accepted. Linux drops SYNs
// to a listener whose accept queue is full, so a connect there times out.
class Blackhole {
 public:
  Blackhole() {
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(listener_, 0) != 0 ||
        getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return;
    }
    // Fill the queue: connections that complete and are never accepted.
    for (int i = 0; i < 4; ++i) {
      int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
      fillers_.push_back(fd);
    }
    std::this_thread::sleep_for(milliseconds(200));
    port_ = ntohs(addr.sin_port);
  }
  ~Blackhole() {
    for (int fd : fillers_) close(fd);
    close(listener_);
  }
  uint16_t port() const { return port_; }

 private:
  int listener_ = -1;
  std::vector<int> fillers_;
  uint16_t port_ = 0;
};

// Waits for `program` to print a line starting with `prefix`; fails the test
// with everything there is to see when it does not.
#define REQUIRE_LINE(program, prefix, server)                                                   \
  do {                                                                                          \
    if (!(program).WaitForLine(prefix, milliseconds(60000))) {                                  \
      FAIL("no line '" << (prefix) << "' from the program\n" << Describe(program, server));     \
    }                                                                                           \
  } while (0)

// The worker pid the daemon logged for the session from local port `port`.
pid_t WorkerOfSession(const TestServer& server, uint16_t port) {
  const std::regex line("from tcp 127\\.0\\.0\\.1:" + std::to_string(port) + " on GPU \\d+: worker pid (\\d+)");
  pid_t pid = -1;
  WaitUntil(
      [&] {
        std::smatch m;
        std::string log = server.Log();
        if (!std::regex_search(log, m, line)) return false;
        pid = static_cast<pid_t>(std::stol(m[1]));
        return true;
      },
      milliseconds(5000));
  return pid;
}

// Checks that the server closes `c` within 10 s; if not, names who still
// holds the connection's server side.
void CheckClosedByServer(RawClient& c, const TestServer& server) {
  const uint16_t client_port = c.local_port();
  bool closed = c.WaitClosed(milliseconds(10000));
  if (!closed) {
    std::string holders;
    for (const auto& h : HoldersOfConnection(server.port(), client_port)) holders += "\n  " + h;
    FAIL_CHECK("the server did not close the connection from port " << client_port
                                                                     << "; its socket is held by:" << holders);
  }
}

}  // namespace

// ---- (1) no server --------------------------------------------------------

TEST_CASE("no server at the endpoint: the first call fails at once, naming the endpoint and the cause",
          "[no_server]") {
  const uint16_t port = UnusedPort();
  const int timeout_ms = 3000;
  auto start = Clock::now();
  Program p(BuildPaths::Probe(), {"first-call"},
            ClientEnv("127.0.0.1@" + std::to_string(port), {"RCUDA_CONNECT_TIMEOUT_MS=" + std::to_string(timeout_ms)}));
  auto rc = p.Wait(milliseconds(30000));
  auto elapsed = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
  INFO(Describe(p));
  REQUIRE(rc == 0);  // both calls returned an error
  auto first = p.Line("FIRST");
  auto second = p.Line("SECOND");
  REQUIRE(first);
  REQUIRE(second);
  CHECK(ErrorOf(*first) != "cudaSuccess");
  CHECK(MsOf(*first) < timeout_ms);  // refused: no need to wait for the timeout
  CHECK(MsOf(*second) < 1000);       // the later call does not try again
  CHECK(elapsed.count() < timeout_ms + 5000);
  const std::string err = p.Stderr();
  CHECK_THAT(err, Catch::Contains("127.0.0.1:" + std::to_string(port)));
  CHECK_THAT(err, Catch::Contains("refused", Catch::CaseSensitive::No));
}

TEST_CASE("a server that never answers: the first call fails within the connect timeout", "[blackhole]") {
  // A listening socket whose accept queue is full drops new SYNs, exactly
  // like a host that is down or firewalled: only the timeout ends the wait.
  Blackhole hole;
  REQUIRE(hole.port());
  const int timeout_ms = 1500;
  Program p(BuildPaths::Probe(), {"first-call"},
            ClientEnv("127.0.0.1@" + std::to_string(hole.port()),
                      {"RCUDA_CONNECT_TIMEOUT_MS=" + std::to_string(timeout_ms)}));
  auto rc = p.Wait(milliseconds(30000));
  INFO(Describe(p));
  REQUIRE(rc == 0);
  auto first = p.Line("FIRST");
  auto second = p.Line("SECOND");
  REQUIRE(first);
  REQUIRE(second);
  CHECK(MsOf(*first) >= timeout_ms - 100);  // it did wait for the timeout...
  CHECK(MsOf(*first) < timeout_ms + 1000);  // ...and no longer
  CHECK(MsOf(*second) < 1000);
  CHECK_THAT(p.Stderr(), Catch::Contains("127.0.0.1:" + std::to_string(hole.port())));
  CHECK_THAT(p.Stderr(), Catch::Contains("timed out"));
}

TEST_CASE("an unroutable address: the first call fails within the connect timeout", "[blackhole]") {
  // 10.255.255.1 is unanswered on most networks; some answer "unreachable"
  // at once, and some sandboxes accept any connection and then speak
  // something else. Whatever this network does, the call must fail within
  // the timeout and say where it tried.
  const int timeout_ms = 1500;
  Program p(BuildPaths::Probe(), {"first-call"},
            ClientEnv("10.255.255.1@8308", {"RCUDA_CONNECT_TIMEOUT_MS=" + std::to_string(timeout_ms)}));
  auto rc = p.Wait(milliseconds(30000));
  INFO(Describe(p));
  REQUIRE(rc == 0);
  auto first = p.Line("FIRST");
  REQUIRE(first);
  CHECK(MsOf(*first) < timeout_ms + 1000);
  CHECK_THAT(p.Stderr(), Catch::Contains("10.255.255.1:8308"));
}

// ---- (2) the server dies mid-run -------------------------------------------

TEST_CASE("the server and its workers killed between calls: every later call fails at once",
          "[server_killed_calls]") {
  TestServer server;
  RequireStarted(server);
  Program p(BuildPaths::Probe(), {"after-loss"}, ClientEnv(server.endpoint()));
  REQUIRE_LINE(p, "READY", &server);
  REQUIRE(WaitUntil([&] { return server.Sessions().size() == 1; }, milliseconds(5000)));
  const uint16_t port = server.port();
  const std::vector<pid_t> workers = server.WorkerProcesses();
  REQUIRE_FALSE(workers.empty());
  server.KillAll();
  // The warm workers follow their daemon (they are told when it dies). Wait
  // on the pids seen before: a dying process's command line is empty before
  // its file descriptors are closed, so matching command lines would let the
  // program go on while the session's socket is still open.
  CHECK(WaitUntil(
      [&] {
        for (pid_t w : workers)
          if (ProcessExists(w)) return false;
        return ProcessesWith({" --worker-control-fd ", " --port " + std::to_string(port) + " "}).empty();
      },
      milliseconds(5000)));
  p.SendLine("GO");
  auto rc = p.Wait(milliseconds(30000));
  INFO(Describe(p));
  REQUIRE(rc.has_value());
  CHECK(rc == 0);  // every call failed
  CHECK(p.Line("FAILED 8 OF 8"));
  std::istringstream lines(p.Stdout());
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("CALL ", 0) != 0) continue;
    INFO(line);
    CHECK(MsOf(line) < 2000);
  }
  CHECK_THAT(p.Stderr(), Catch::Contains("127.0.0.1:" + std::to_string(port)));
}

TEST_CASE("the server and its workers killed while a program waits in cudaDeviceSynchronize: it fails, no hang",
          "[server_killed_sync]") {
  TestServer server;
  RequireStarted(server);
  Program p(BuildPaths::Probe(), {"sync-during-loss"}, ClientEnv(server.endpoint()));
  REQUIRE_LINE(p, "SLEEPING", &server);
  std::this_thread::sleep_for(milliseconds(300));
  server.KillAll();
  auto rc = p.Wait(milliseconds(30000));
  INFO(Describe(p));
  REQUIRE(rc.has_value());
  CHECK(rc == 0);  // the synchronize and every call after it failed
  auto sync = p.Line("SYNC");
  REQUIRE(sync);
  CHECK(ErrorOf(*sync) != "cudaSuccess");
  CHECK(MsOf(*sync) < 10000);  // the kernel would have run 30 s
}

// ---- (3) malformed input from a client -------------------------------------

namespace {

struct BadInput {
  const char* name;
  bool hello_first;                             // handshake properly first
  std::function<void(RawClient&)> send;         // then send this
  std::vector<std::string> log_words;           // the log line that must say why
};

std::vector<uint8_t> Garbage(size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 131 + 7);
  return v;
}

flatbuffers::Offset<void> MemGetInfoBody(flatbuffers::FlatBufferBuilder& b) { return wire::CreateMemGetInfo(b).Union(); }

std::vector<BadInput> BadInputs() {
  return {
      {"garbage instead of a Hello", false,
       [](RawClient& c) {
         auto g = Garbage(64);
         (void)c.WriteRaw(g.data(), g.size());
       },
       {"dropped before its handshake", "bad frame magic"}},
      {"a bad frame magic", true,
       [](RawClient& c) {
         auto g = Garbage(64);
         (void)c.WriteRaw(g.data(), g.size());
       },
       {"session ended", "bad frame magic"}},
      {"a message larger than 64 MiB", true,
       [](RawClient& c) {
         FrameHeader h{kFrameMagic, 100u << 20, 0};
         (void)c.WriteRaw(&h, sizeof h);
       },
       {"session ended", "out of range"}},
      {"a frame cut short", true,
       [](RawClient& c) {
         FrameHeader h{kFrameMagic, 200, 0};
         auto g = Garbage(50);
         (void)c.WriteRaw(&h, sizeof h);
         (void)c.WriteRaw(g.data(), g.size());
         shutdown(c.connection().NativeHandle(), SHUT_WR);
       },
       {"session ended", "closed"}},
      {"a message that is not a flatbuffer", true,
       [](RawClient& c) {
         auto g = Garbage(64);
         FrameHeader h{kFrameMagic, static_cast<uint32_t>(g.size()), 0};
         (void)c.WriteRaw(&h, sizeof h);
         (void)c.WriteRaw(g.data(), g.size());
       },
       {"session ended", "malformed message"}},
      {"an unknown request type", true,
       [](RawClient& c) { (void)c.Send(static_cast<wire::Request>(200), MemGetInfoBody); },
       {"session ended", "unknown request type 200"}},
      {"a message id out of sequence", true,
       [](RawClient& c) {
         c.set_next_id(c.next_id() + 5);
         (void)c.Send(wire::Request::MemGetInfo, MemGetInfoBody);
       },
       {"session ended", "out of sequence"}},
      {"bulk data on a request that takes none", true,
       [](RawClient& c) {
         auto g = Garbage(32);
         (void)c.Send(wire::Request::MemGetInfo, MemGetInfoBody, g);
       },
       {"session ended", "unexpected bulk"}},
      {"a copy whose size disagrees with its bulk", true,
       [](RawClient& c) {
         auto g = Garbage(32);
         (void)c.Send(
             wire::Request::MemcpyHtoD,
             [](flatbuffers::FlatBufferBuilder& b) { return wire::CreateMemcpyHtoD(b, 0x1000, 64, 0).Union(); }, g);
       },
       {"session ended", "does not match"}},
      {"a second Hello", true,
       [](RawClient& c) { (void)c.SendHello(kProtocolVersion); },
       {"session ended", "second Hello"}},
  };
}

}  // namespace

TEST_CASE("malformed frames end their own session only, with the reason in the log", "[bad_frames]") {
  TestServer server;
  RequireStarted(server);
  // Another tenant, mid-session the whole time.
  Program other(BuildPaths::Probe(), {"two-phase"}, ClientEnv(server.endpoint()));
  REQUIRE_LINE(other, "PHASE1 OK", &server);

  for (const auto& bad : BadInputs()) {
    INFO("bad input: " << bad.name);
    server.WaitForWarmWorker();
    RawClient c;
    REQUIRE(c.Connect(server.port()).ok());
    const std::string port = std::to_string(c.local_port());
    if (bad.hello_first) {
      const wire::Reply* reply = nullptr;
      Status s = c.Hello(kProtocolVersion, &reply);
      INFO(s.ToString());
      REQUIRE(s.ok());
      REQUIRE(reply->body_as_HelloReply());
      REQUIRE(reply->body_as_HelloReply()->accepted());
    }
    bad.send(c);
    CheckClosedByServer(c, server);
    // The line that gives the reason is about this connection: the daemon
    // names it by its port, a worker by its pid (which the daemon logged
    // with the port when it handed the session over).
    std::vector<std::string> words = bad.log_words;
    if (bad.hello_first) {
      pid_t worker = WorkerOfSession(server, c.local_port());
      CHECK(worker > 0);
      words.push_back("[rcuda-worker " + std::to_string(worker) + "]");
    } else {
      words.push_back("127.0.0.1:" + port);
    }
    INFO("server log:\n" << server.Log());
    CHECK(server.WaitForLogLine(words, milliseconds(5000)));
    CHECK(server.Alive());
  }

  // The other tenant's session went on untouched.
  other.SendLine("GO");
  auto rc = other.Wait(milliseconds(60000));
  INFO(Describe(other, &server));
  CHECK(rc == 0);
  CHECK(other.Line("PHASE2 OK"));
  RequireFreshSessionComputes(server);
}

TEST_CASE("a client of another protocol version is refused with both versions named", "[version]") {
  TestServer server;
  RequireStarted(server);
  const uint32_t theirs = kProtocolVersion + 100;
  RawClient c;
  REQUIRE(c.Connect(server.port()).ok());
  const wire::Reply* reply = nullptr;
  Status s = c.Hello(theirs, &reply);
  INFO(s.ToString() << "\nserver log:\n" << server.Log());
  REQUIRE(s.ok());
  CHECK(reply->error() != 0);
  const wire::HelloReply* hr = reply->body_as_HelloReply();
  REQUIRE(hr);
  CHECK_FALSE(hr->accepted());
  CHECK(hr->protocol_version() == kProtocolVersion);
  REQUIRE(hr->message());
  const std::string message = hr->message()->str();
  INFO("refusal: " << message);
  CHECK_THAT(message, Catch::Contains("client speaks rcuda protocol " + std::to_string(theirs)));
  CHECK_THAT(message, Catch::Contains("server speaks " + std::to_string(kProtocolVersion)));
  CheckClosedByServer(c, server);
  CHECK(server.WaitForLogLine({"protocol version mismatch", std::to_string(theirs)}, milliseconds(5000)));
  RequireFreshSessionComputes(server);
}

// ---- (4) a client killed mid-copy -----------------------------------------

TEST_CASE("a client SIGKILLed during a 1 GiB copy: its worker ends and its memory returns", "[client_killed]") {
  TestServer::Options options;
  options.test_memory = 4ull << 30;
  TestServer server(options);
  RequireStarted(server);

  uint64_t free_before = 0, total = 0;
  {
    Program info(BuildPaths::Probe(), {"meminfo"}, ClientEnv(server.endpoint()));
    REQUIRE(info.Wait(milliseconds(60000)) == 0);
    auto line = info.Line("MEMINFO");
    REQUIRE(line);
    std::istringstream(line->substr(8)) >> free_before >> total;
    REQUIRE(total == options.test_memory);
  }
  REQUIRE(WaitUntil([&] { return server.Sessions().empty(); }, milliseconds(5000)));

  server.WaitForWarmWorker();
  Program copier(BuildPaths::Probe(), {"big-copy", "1024"}, ClientEnv(server.endpoint()));
  REQUIRE_LINE(copier, "COPYING", &server);
  REQUIRE(WaitUntil([&] { return server.Sessions().size() == 1; }, milliseconds(5000)));
  const SessionEntry session = server.Sessions()[0];
  // The copy is under way: the worker's "device" memory is filling up.
  CHECK(WaitUntil([&] { return ResidentBytes(session.worker_pid) > (256ull << 20); }, milliseconds(30000)));
  const uint64_t resident = ResidentBytes(session.worker_pid);
  copier.Kill(SIGKILL);
  REQUIRE(copier.Wait(milliseconds(10000)) == 128 + SIGKILL);

  // Its worker ends, so everything it held goes back to the system...
  CHECK(WaitUntil([&] { return !ProcessExists(session.worker_pid); }, milliseconds(10000)));
  CHECK(WaitUntil([&] { return server.Sessions().empty(); }, milliseconds(10000)));
  CHECK(server.WaitForLogLine({"session " + std::to_string(session.id) + " ended",
                               "worker pid " + std::to_string(session.worker_pid)},
                              milliseconds(5000)));
  WARN("the worker held " << (resident >> 20) << " MiB when its client was killed");
  // ...and a new session sees the whole memory free. (The test backend
  // accounts memory per worker, so this holds by construction there; the
  // worker's end above is what returns the memory. On a GPU the driver frees
  // it when the worker's context goes.)
  server.WaitForWarmWorker();
  Program info(BuildPaths::Probe(), {"meminfo"}, ClientEnv(server.endpoint()));
  REQUIRE(info.Wait(milliseconds(60000)) == 0);
  auto line = info.Line("MEMINFO");
  REQUIRE(line);
  uint64_t free_after = 0, total_after = 0;
  std::istringstream(line->substr(8)) >> free_after >> total_after;
  CHECK(free_after == free_before);
  CHECK(total_after == total);
  CHECK(server.Alive());
}

// ---- (5) a worker that crashes or is killed -------------------------------

TEST_CASE("a worker that crashes harms no other session", "[worker_crash]") {
  TestServer server;
  RequireStarted(server);
  Program other(BuildPaths::Probe(), {"two-phase"}, ClientEnv(server.endpoint()));
  REQUIRE_LINE(other, "PHASE1 OK", &server);

  // The crashing tenant's own program learns of it with an error.
  server.WaitForWarmWorker();
  Program crasher(BuildPaths::Probe(), {"crash"}, ClientEnv(server.endpoint()));
  auto crashed = crasher.Wait(milliseconds(30000));
  {
    INFO(Describe(crasher, &server));
    CHECK(crashed == 0);
    CHECK(crasher.Line("CRASH"));
  }
  CHECK(server.WaitForLogLine({"ended", "Segmentation fault"}, milliseconds(10000)));
  CHECK(server.Alive());

  other.SendLine("GO");
  auto rc = other.Wait(milliseconds(60000));
  INFO(Describe(other, &server));
  CHECK(rc == 0);
  CHECK(other.Line("PHASE2 OK"));
  RequireFreshSessionComputes(server);
}

TEST_CASE("a worker killed from outside harms no other session", "[worker_killed]") {
  TestServer server;
  RequireStarted(server);
  Program other(BuildPaths::Probe(), {"two-phase"}, ClientEnv(server.endpoint()));
  REQUIRE_LINE(other, "PHASE1 OK", &server);
  REQUIRE(WaitUntil([&] { return server.Sessions().size() == 1; }, milliseconds(5000)));
  const uint64_t other_id = server.Sessions()[0].id;

  server.WaitForWarmWorker();
  Program victim(BuildPaths::Probe(), {"after-loss"}, ClientEnv(server.endpoint()));
  REQUIRE_LINE(victim, "READY", &server);
  REQUIRE(WaitUntil([&] { return server.Sessions().size() == 2; }, milliseconds(5000)));
  pid_t victim_worker = -1;
  for (const auto& s : server.Sessions())
    if (s.id != other_id) victim_worker = s.worker_pid;
  REQUIRE(victim_worker > 0);
  REQUIRE(kill(victim_worker, SIGKILL) == 0);
  CHECK(WaitUntil([&] { return server.Sessions().size() == 1; }, milliseconds(10000)));
  CHECK(server.Sessions().at(0).id == other_id);
  victim.SendLine("GO");
  auto victim_rc = victim.Wait(milliseconds(30000));
  {
    INFO(Describe(victim, &server));
    CHECK(victim_rc == 0);  // every call of the victim failed
    CHECK(victim.Line("FAILED 8 OF 8"));
  }

  other.SendLine("GO");
  auto rc = other.Wait(milliseconds(60000));
  INFO(Describe(other, &server));
  CHECK(rc == 0);
  CHECK(other.Line("PHASE2 OK"));
  CHECK(server.Alive());
  RequireFreshSessionComputes(server);
}

// Regression (CTest fault.regression.session_socket_leak): the daemon forked
// a replacement warm worker while an intake thread still had a client's
// socket open, and the new worker kept a copy of it, so when the session's
// worker ended the client saw no end of stream and hung. Repeated because
// the fork raced with the intake.
TEST_CASE("the client sees its session end, whatever ends it", "[session-socket-leak]") {
  TestServer server;
  RequireStarted(server);
  SECTION("refused handshakes close the connection") {
    for (int i = 0; i < 10; ++i) {
      INFO("attempt " << i);
      server.WaitForWarmWorker();
      RawClient c;
      REQUIRE(c.Connect(server.port()).ok());
      const wire::Reply* reply = nullptr;
      REQUIRE(c.Hello(kProtocolVersion + 100, &reply).ok());
      CheckClosedByServer(c, server);
    }
  }
  SECTION("malformed frames close the connection") {
    for (const auto& bad : BadInputs()) {
      INFO("bad input: " << bad.name);
      server.WaitForWarmWorker();
      RawClient c;
      REQUIRE(c.Connect(server.port()).ok());
      if (bad.hello_first) {
        const wire::Reply* reply = nullptr;
        REQUIRE(c.Hello(kProtocolVersion, &reply).ok());
      }
      bad.send(c);
      CheckClosedByServer(c, server);
    }
  }
  SECTION("a crashed worker's program gets an error") {
    for (int i = 0; i < 3; ++i) {
      INFO("attempt " << i);
      server.WaitForWarmWorker();
      Program crasher(BuildPaths::Probe(), {"crash"}, ClientEnv(server.endpoint()));
      auto rc = crasher.Wait(milliseconds(20000));
      INFO(Describe(crasher, &server));
      CHECK(rc == 0);
    }
  }
  SECTION("a killed worker's program gets an error from every call") {
    for (int i = 0; i < 3; ++i) {
      INFO("attempt " << i);
      server.WaitForWarmWorker();
      Program victim(BuildPaths::Probe(), {"after-loss"}, ClientEnv(server.endpoint()));
      REQUIRE_LINE(victim, "READY", &server);
      REQUIRE(WaitUntil([&] { return server.Sessions().size() == 1; }, milliseconds(5000)));
      REQUIRE(kill(server.Sessions().at(0).worker_pid, SIGKILL) == 0);
      REQUIRE(WaitUntil([&] { return server.Sessions().empty(); }, milliseconds(10000)));
      victim.SendLine("GO");
      auto rc = victim.Wait(milliseconds(20000));
      INFO(Describe(victim, &server));
      CHECK(rc == 0);
      CHECK(victim.Line("FAILED 8 OF 8"));
    }
  }
}

// Regression (CTest fault.regression.on_demand_worker): a worker started on
// demand (no warm worker ready) was forked by the connection's intake thread
// with PR_SET_PDEATHSIG, which fires when the forking *thread* ends, so it
// got SIGTERM right after the handshake.
TEST_CASE("sessions work when no warm worker is ready", "[on-demand-worker]") {
  SECTION("--warm-workers 0") {
    TestServer::Options options;
    options.warm_workers = 0;
    TestServer server(options);
    RequireStarted(server);
    Program p(BuildPaths::Probe(), {"two-phase"}, ClientEnv(server.endpoint()));
    REQUIRE_LINE(p, "PHASE1 OK", &server);
    std::this_thread::sleep_for(milliseconds(1000));
    p.SendLine("GO");
    auto rc = p.Wait(milliseconds(60000));
    INFO(Describe(p, &server));
    CHECK(rc == 0);
  }
  SECTION("four clients at once") {
    TestServer server;
    RequireStarted(server);
    std::vector<std::unique_ptr<Program>> programs;
    for (int i = 0; i < 4; ++i)
      programs.push_back(std::make_unique<Program>(BuildPaths::Probe(), std::vector<std::string>{"two-phase"},
                                                   ClientEnv(server.endpoint())));
    for (auto& p : programs) REQUIRE_LINE(*p, "PHASE1 OK", &server);
    std::this_thread::sleep_for(milliseconds(1000));
    for (auto& p : programs) p->SendLine("GO");
    for (auto& p : programs) {
      auto rc = p->Wait(milliseconds(60000));
      INFO(Describe(*p, &server));
      CHECK(rc == 0);
    }
  }
}

// ---- (6) pointer validation ------------------------------------------------

TEST_CASE("pointers a program never allocated get cudaErrorInvalidValue", "[bad_pointers]") {
  TestServer server;
  RequireStarted(server);
  Program p(BuildPaths::Probe(), {"bad-pointers"}, ClientEnv(server.endpoint()));
  auto rc = p.Wait(milliseconds(60000));
  INFO(Describe(p, &server));
  CHECK(rc == 0);
  CHECK(p.Line("WRONG 0 SESSION OK"));
  CHECK(server.Alive());
}

TEST_CASE("the server itself refuses pointers a session never allocated", "[bad_pointers]") {
  // The same through a raw client, so that no check in the client library
  // can hide what the server does.
  TestServer server;
  RequireStarted(server);
  RawClient c;
  REQUIRE(c.Connect(server.port()).ok());
  const wire::Reply* r = nullptr;
  REQUIRE(c.Hello(kProtocolVersion, &r).ok());
  REQUIRE(r->body_as_HelloReply()->accepted());
  constexpr int kInvalidValue = 1;
  const uint64_t wild = 0x7ff000000000ull;
  auto call = [&](wire::Request type, auto build, std::span<const uint8_t> bulk = {}) {
    Status s = c.Send(type, build, bulk);
    REQUIRE(s.ok());
  };
  auto reply = [&](std::vector<uint8_t>* bulk = nullptr) {
    Status s = c.Receive(&r, bulk);
    INFO(s.ToString() << "\nserver log:\n" << server.Log());
    REQUIRE(s.ok());
    return r;
  };
  auto sync = [&] {
    call(wire::Request::DeviceSynchronize,
         [](flatbuffers::FlatBufferBuilder& b) { return wire::CreateDeviceSynchronize(b).Union(); });
    return reply();
  };

  call(wire::Request::MemAlloc, [](flatbuffers::FlatBufferBuilder& b) { return wire::CreateMemAlloc(b, 4096).Union(); });
  REQUIRE(reply()->error() == 0);
  const uint64_t ptr = r->body_as_MemAllocReply()->ptr();
  REQUIRE(ptr != 0);

  // Synchronous requests fail in their own reply.
  call(wire::Request::MemFree, [&](flatbuffers::FlatBufferBuilder& b) { return wire::CreateMemFree(b, wild).Union(); });
  CHECK(reply()->error() == kInvalidValue);
  call(wire::Request::MemFree, [&](flatbuffers::FlatBufferBuilder& b) { return wire::CreateMemFree(b, ptr + 16).Union(); });
  CHECK(reply()->error() == kInvalidValue);
  std::vector<uint8_t> bulk;
  call(wire::Request::MemcpyDtoH,
       [&](flatbuffers::FlatBufferBuilder& b) { return wire::CreateMemcpyDtoH(b, wild, 64, 0).Union(); });
  CHECK(reply(&bulk)->error() == kInvalidValue);
  CHECK(bulk.empty());
  call(wire::Request::MemcpyDtoH,
       [&](flatbuffers::FlatBufferBuilder& b) { return wire::CreateMemcpyDtoH(b, ptr + 4000, 200, 0).Union(); });
  CHECK(reply(&bulk)->error() == kInvalidValue);

  // Asynchronous ones report at the next synchronizing call.
  auto data = std::vector<uint8_t>(64, 0xab);
  call(wire::Request::MemcpyHtoD,
       [&](flatbuffers::FlatBufferBuilder& b) { return wire::CreateMemcpyHtoD(b, wild, 64, 0).Union(); }, data);
  CHECK(sync()->async_error() == kInvalidValue);
  call(wire::Request::Memset,
       [&](flatbuffers::FlatBufferBuilder& b) { return wire::CreateMemset(b, wild, 0, 64, 0).Union(); });
  CHECK(sync()->async_error() == kInvalidValue);
  call(wire::Request::Memset,
       [&](flatbuffers::FlatBufferBuilder& b) { return wire::CreateMemset(b, ptr + 4090, 0, 64, 0).Union(); });
  CHECK(sync()->async_error() == kInvalidValue);
  call(wire::Request::MemcpyDtoD,
       [&](flatbuffers::FlatBufferBuilder& b) { return wire::CreateMemcpyDtoD(b, ptr, wild, 64, 0).Union(); });
  CHECK(sync()->async_error() == kInvalidValue);

  // The session is still in step and its memory intact.
  std::vector<uint8_t> pattern(4096);
  for (size_t i = 0; i < pattern.size(); ++i) pattern[i] = static_cast<uint8_t>(i * 3);
  call(wire::Request::MemcpyHtoD,
       [&](flatbuffers::FlatBufferBuilder& b) { return wire::CreateMemcpyHtoD(b, ptr, pattern.size(), 0).Union(); },
       pattern);
  call(wire::Request::MemcpyDtoH,
       [&](flatbuffers::FlatBufferBuilder& b) { return wire::CreateMemcpyDtoH(b, ptr, pattern.size(), 0).Union(); });
  CHECK(reply(&bulk)->error() == 0);
  CHECK(r->async_error() == 0);
  CHECK(bulk == pattern);
  call(wire::Request::MemFree, [&](flatbuffers::FlatBufferBuilder& b) { return wire::CreateMemFree(b, ptr).Union(); });
  CHECK(reply()->error() == 0);
  CHECK(server.Alive());
}

// ---- (7) statically linked programs ----------------------------------------

TEST_CASE("rcuda-run refuses a program with the static CUDA runtime and says how to rebuild it", "[static_program]") {
  Program p(BuildPaths::StaticProbe(), {"compute"}, ClientEnv("127.0.0.1@1"));
  auto rc = p.Wait(milliseconds(30000));
  INFO(Describe(p));
  REQUIRE(rc.has_value());
  CHECK(rc != 0);
  CHECK(p.Stdout().empty());  // the program never ran
  CHECK_THAT(p.Stderr(), Catch::Contains("statically"));
  CHECK_THAT(p.Stderr(), Catch::Contains("-cudart=shared"));
}

// Regression (CTest fault.regression.run_args): rcuda-run used to append a
// stray "--" to the program's arguments and, without "--", moved the
// program's own options behind its other arguments
// (`rcuda-run prog --mode gpu x` ran `prog gpu x --mode`).
TEST_CASE("rcuda-run passes the program exactly its arguments", "[run-args]") {
  const std::string probe = BuildPaths::Probe();
  const std::vector<std::vector<std::string>> forms = {
      {probe, "args", "a", "b c"},
      {"--", probe, "args", "a", "b c"},
      {"--log-level", "warn", "--", probe, "args", "a", "b c"},
      {probe, "args", "a", "b c", "--", "-x"},
      {probe, "args", "--mode", "gpu", "-q", "x"},
  };
  for (const auto& form : forms) {
    std::string shown;
    for (const auto& w : form) shown += " " + w;
    INFO("rcuda-run" << shown);
    Program p(BuildPaths::Run(), form, {}, /*through_rcuda_run=*/false);
    REQUIRE(p.Wait(milliseconds(30000)) == 0);
    auto line = p.Line("ARGS");
    REQUIRE(line);
    // Exactly what follows the program's name.
    std::string expected = "ARGS";
    auto it = std::find(form.begin(), form.end(), probe);
    for (++it; it != form.end(); ++it) expected += " [" + *it + "]";
    CHECK(*line == expected);
  }
}

}  // namespace rcuda::itest
