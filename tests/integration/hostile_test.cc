// Hostile peers (the server's half): an unauthenticated network
// peer, a tenant's own client sending what the real client never would, or
// a tenant trying to take more than its share. Each TEST_CASE is one CTest
// entry (tests/integration/CMakeLists.txt) and checks that the daemon still
// serves, that a session opened before the attack is unaffected, that what
// the attack took is given back, and that the attacker got an error.
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

#include <filesystem>
#include <fstream>
#include <regex>

#include "hostile_support.h"
#include "protocol/fd_message.h"
#include "protocol/shm_transport.h"
#include "protocol/version.h"

namespace rcuda::itest {
namespace {

void RequireStarted(const TestServer& server) {
  INFO("server log:\n" << server.Log());
  REQUIRE(server.started());
}

size_t CountClosed(std::vector<RawClient>& clients) {
  size_t n = 0;
  for (auto& c : clients) n += c.Closed();
  return n;
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

// ---- Before the handshake -------------------------------------------------------

TEST_CASE("before its Hello a peer gets a small first frame, a short time and few connections",
          "[hostile_handshake]") {
  TestServer::Options options;
  options.extra_args = {"--max-handshakes", "8", "--max-connections-per-peer", "6", "--handshake-timeout", "4"};
  TestServer server(options);
  RequireStarted(server);
  // Counts as one of 127.0.0.1's six.
  RawClient bystander;
  RequireOpen(bystander, server, Via::kTcp);
  const uint64_t resident = DaemonResident(server);
  const int threads = ThreadCount(server.pid());

  // A first frame that announces 64 MiB is refused at its header (before the
  // fix the daemon zero-filled 64 MiB for each and waited for the rest).
  for (Via via : {Via::kTcp, Via::kShm}) {
    INFO("over " << ViaName(via));
    std::vector<RawClient> big(4);
    for (auto& c : big) {
      REQUIRE(c.Connect(server.port(), via).ok());
      FrameHeader h{kFrameMagic, kMaxMessageBytes, 0};
      REQUIRE(c.WriteRaw(&h, sizeof h).ok());
    }
    CHECK(WaitUntil([&] { return CountClosed(big) == big.size(); }, milliseconds(3000)));
    CheckDaemonResidentNear(server, resident, 16ull << 20);
  }
  CHECK(server.WaitForLogLine({"dropped before its handshake", "out of range"}, milliseconds(5000)));

  // Connections that say nothing: five more from 127.0.0.1 are let in (its
  // sixth place is the bystander's), the others are closed at once; then
  // shared-memory ones (another peer: a local user) up to eight pending in
  // all.
  std::vector<RawClient> tcp(20), shm(6);
  for (auto& c : tcp) REQUIRE(c.Connect(server.port(), Via::kTcp).ok());
  CHECK(WaitUntil([&] { return CountClosed(tcp) == 15; }, milliseconds(3000)));
  for (auto& c : shm) REQUIRE(c.Connect(server.port(), Via::kShm).ok());
  CHECK(WaitUntil([&] { return CountClosed(shm) == 3; }, milliseconds(3000)));
  // One thread per pending handshake at most (before: two each, unbounded).
  int now_threads = ThreadCount(server.pid());
  INFO("daemon threads: " << threads << " before, " << now_threads << " with the handshakes pending");
  CHECK(now_threads <= threads + 8 + 1);
  CHECK(CountClosed(tcp) == 15);
  CHECK(CountClosed(shm) == 3);
  CHECK(server.WaitForLogLine({"refused", "--max-connections-per-peer"}, milliseconds(5000)));
  CHECK(server.WaitForLogLine({"refused", "--max-handshakes"}, milliseconds(5000)));

  // The handshake timeout frees every place, even for a peer that trickles.
  CHECK(WaitUntil([&] { return CountClosed(tcp) == tcp.size() && CountClosed(shm) == shm.size(); },
                  milliseconds(10000)));
  {
    RawClient slow;
    REQUIRE(slow.Connect(server.port(), Via::kTcp).ok());
    FrameHeader h{kFrameMagic, 200, 0};
    REQUIRE(slow.WriteRaw(&h, sizeof h).ok());
    auto start = Clock::now();
    bool closed = false;
    for (int i = 0; i < 40 && !closed; ++i) {
      (void)slow.WriteRaw("x", 1);  // a byte now and then, never the whole frame
      closed = slow.WaitClosed(milliseconds(250));
    }
    CHECK(closed);
    CHECK(Clock::now() - start < std::chrono::seconds(9));
  }
  REQUIRE(server.Alive());
  RequireSessionWorks(bystander, server);
  RequireFreshSessionsWork(server);
  CheckDaemonResidentNear(server, resident);
}

// ---- The GPU index of an unauthenticated Hello ----------------------------------

TEST_CASE("a Hello for a GPU the node lacks is refused before anything is kept for it", "[hostile_gpu_index]") {
  for (const char* backend : kBackends) {
    INFO("backend " << backend);
    TestServer::Options options;
    options.backend = backend;
    TestServer server(options);
    RequireStarted(server);
    RawClient bystander;
    RequireOpen(bystander, server, Via::kShm);
    const uint64_t resident = DaemonResident(server);
    for (Via via : {Via::kTcp, Via::kShm}) {
      for (int gpu : {1, 7, -1, 1024, 1 << 30}) {
        INFO("GPU " << gpu << " over " << ViaName(via));
        RawClient c;
        REQUIRE(c.Connect(server.port(), via).ok());
        HelloFields fields;
        fields.gpu = gpu;
        const wire::Reply* reply = nullptr;
        Status s = c.Hello(fields, &reply);
        INFO(s.ToString() << "\nserver log:\n" << server.Log());
        REQUIRE(s.ok());
        CHECK(reply->error() != 0);
        REQUIRE(reply->body_as_HelloReply());
        CHECK_FALSE(reply->body_as_HelloReply()->accepted());
        REQUIRE(reply->body_as_HelloReply()->message());
        CHECK_THAT(reply->body_as_HelloReply()->message()->str(), Catch::Contains("this server has 1"));
        CHECK(c.WaitClosed(milliseconds(5000)));
      }
    }
    // No worker was ever started for those GPUs (before the fix: warm
    // workers for each index seen, restarted as they failed).
    const std::string port = " --port " + std::to_string(server.port()) + " ";
    CHECK_FALSE(WaitUntil([&] { return !ProcessesWith({" --worker-gpu 7 ", port}).empty(); }, milliseconds(1500)));
    INFO("server log:\n" << server.Log());
    CHECK(CountLogLines(server, "for GPU 7 exited") == 0);
    CHECK(CountLogLines(server, "for GPU 1 exited") == 0);
    CHECK(server.Sessions().size() == 1);
    RequireSessionWorks(bystander, server);
    RequireFreshSessionsWork(server);
    CheckDaemonResidentNear(server, resident);
  }
}

// ---- A worker that does not take its host channel ---------------------------------

TEST_CASE("a worker that takes no handoff does not stop the daemon", "[hostile_attach]") {
  TestServer::Options options;
  options.extra_args = {"--max-connections-per-peer", "40"};
  TestServer server(options);
  RequireStarted(server);
  RawClient bystander;
  RequireOpen(bystander, server, Via::kShm);
  const uint64_t resident = DaemonResident(server);

  // The tenant's session, and its key to attach host channels.
  RawClient tenant;
  server.WaitForWarmWorker();
  const uint64_t before = LastSessionId(server);
  REQUIRE(tenant.Connect(server.port(), Via::kTcp).ok());
  const wire::Reply* reply = nullptr;
  REQUIRE(tenant.Hello(HelloFields{}, &reply).ok());
  REQUIRE(reply->body_as_HelloReply());
  REQUIRE(reply->body_as_HelloReply()->session_key());
  const std::string key = reply->body_as_HelloReply()->session_key()->str();
  const pid_t worker = WorkerOfNewSession(server, before);
  REQUIRE(worker > 0);
  // TEST EQUIPMENT: a stopped worker stands for one whose attach thread is
  // blocked (say, writing to a client that never reads its ring): it
  // takes no more handoffs, and its control socket's queue fills.
  REQUIRE(kill(worker, SIGSTOP) == 0);
  struct Resume {
    pid_t pid;
    ~Resume() { kill(pid, SIGCONT); }
  } resume{worker};

  // Attachments until the daemon reports a handoff it gave up on (before
  // the fix: it blocked in the send, holding its lock, and served nobody).
  bool gave_up = false;
  for (int i = 0; i < 2000 && !gave_up; ++i) {
    RawClient attach;
    REQUIRE(attach.Connect(server.port(), Via::kTcp).ok());
    HelloFields fields;
    fields.attach_key = key;
    (void)attach.SendHello(fields);  // refused ones may be closed already
    if (i % 50 == 49) gave_up = server.WaitForLogLine({"does not take the connection"}, milliseconds(100));
  }
  INFO("server log:\n" << server.Log());
  CHECK(server.WaitForLogLine({"does not take the connection"}, milliseconds(10000)));
  // Meanwhile the daemon serves everyone else, at once.
  auto start = Clock::now();
  {
    RawClient fresh;
    RequireOpen(fresh, server, Via::kShm);
    RequireSessionWorks(fresh, server);
  }
  CHECK(Clock::now() - start < std::chrono::seconds(10));
  RequireSessionWorks(bystander, server);
  REQUIRE(kill(worker, SIGCONT) == 0);
  // The tenant's own session goes on, too.
  RequireSessionWorks(tenant, server);
  REQUIRE(server.Alive());
  RequireFreshSessionsWork(server);
  CheckDaemonResidentNear(server, resident);
}

// ---- Lease tokens name their node --------------------------------------------------

TEST_CASE("with --auth-key-file a token for another node is refused", "[hostile_node_name]") {
  const std::string key = "hostile-test-lease-key-0123456789";
  char host[256] = {};
  REQUIRE(gethostname(host, sizeof host - 1) == 0);
  TestServer::Options options;
  // No --node-name: the server takes its host name.
  std::string key_file = std::filesystem::temp_directory_path().string() + "/rcuda-hostile-key-" +
                         std::to_string(getpid());
  {
    std::ofstream(key_file) << key << "\n";
  }
  struct RemoveFile {
    std::string path;
    ~RemoveFile() { std::filesystem::remove(path); }
  } remove_key{key_file};  // workers read it as they start
  options.extra_args = {"--auth-key-file", key_file};
  TestServer server(options);
  RequireStarted(server);
  CHECK(server.WaitForLogLine({"lease tokens that grant node", host}, milliseconds(5000)));
  for (Via via : {Via::kTcp, Via::kShm}) {
    INFO("over " << ViaName(via));
    RawClient elsewhere;
    REQUIRE(elsewhere.Connect(server.port(), via).ok());
    HelloFields fields;
    fields.token = LeaseToken(key, "lease-elsewhere", "some-other-node", server.port(), 1 << 20);
    const wire::Reply* reply = nullptr;
    REQUIRE(elsewhere.Hello(fields, &reply).ok());
    REQUIRE(reply->body_as_HelloReply());
    CHECK_FALSE(reply->body_as_HelloReply()->accepted());
    CHECK(elsewhere.WaitClosed(milliseconds(5000)));

    RawClient here;
    fields.token = LeaseToken(key, "lease-here", host, server.port(), 1 << 20);
    RequireOpen(here, server, via, fields);
    RequireSessionWorks(here, server);
  }
  CHECK(server.WaitForLogLine({"does not grant GPU 0 of this server"}, milliseconds(5000)));
  REQUIRE(server.Alive());
}

// ---- The shared-memory region a local client brings --------------------------------

// The transport used to map the memfd a client sent without checking that
// it keeps its size; a client that shrank it made the daemon's first read of
// the ring fault (SIGBUS), ending the daemon and every session on the node.
// The daemon now maps only a region sealed against shrinking and growing
// (protocol/shm_transport.cc), so an unsealed one is refused before it is
// read; the client shrinks it anyway.
TEST_CASE("a local client that shrinks its shared-memory region does not crash the daemon", "[hostile_shm_shrink]") {
  TestServer server;
  RequireStarted(server);
  RawClient bystander;
  RequireOpen(bystander, server, Via::kTcp);
  // The transport's set-up, as a client does it (protocol/shm_transport.cc:
  // two rings of 8 MiB behind 192-byte headers, the magic "RCUS").
  constexpr size_t kRegionBytes = 2 * (192 + (8u << 20));
  constexpr uint32_t kSetupMagic = 0x53554352;
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(s >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string path = ServerShmSocket(server.port());
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  REQUIRE(connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  int memfd = memfd_create("hostile-shm", MFD_CLOEXEC);
  REQUIRE(memfd >= 0);
  REQUIRE(ftruncate(memfd, kRegionBytes) == 0);
  uint32_t magic = kSetupMagic;
  const int fds[] = {memfd};
  void* region = mmap(nullptr, kRegionBytes, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
  REQUIRE(region != MAP_FAILED);
  REQUIRE(SendWithFds(s, &magic, sizeof magic, fds) == static_cast<ssize_t>(sizeof magic));
  // Half a frame header into the client's ring (head at 0, tail at 64,
  // data at 192), so that the daemon has mapped the region and reads it...
  auto* base = static_cast<char*>(region);
  auto* head = reinterpret_cast<std::atomic<uint64_t>*>(base);
  auto* tail = reinterpret_cast<std::atomic<uint64_t>*>(base + 64);
  FrameHeader h{kFrameMagic, 100, 0};
  std::memcpy(base + 192, &h, 8);
  tail->store(8);
  // The daemon refuses the unsealed region: it closes the socket without
  // having consumed a byte of the ring.
  REQUIRE(WaitUntil(
      [&] {
        char byte;
        return recv(s, &byte, 1, MSG_DONTWAIT) == 0;
      },
      milliseconds(5000)));
  CHECK(head->load() == 0);
  // The region shrinks; nothing of the daemon's may touch it.
  munmap(region, kRegionBytes);
  REQUIRE(ftruncate(memfd, 0) == 0);
  CHECK_FALSE(WaitUntil([&] { return !server.Alive(); }, milliseconds(1000)));
  close(memfd);
  close(s);
  REQUIRE(server.Alive());
  RequireSessionWorks(bystander, server);
  RequireFreshSessionsWork(server);
}

}  // namespace rcuda::itest
