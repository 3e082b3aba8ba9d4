// The daemon under hostile local clients of its shared-memory transport: a
// client that hands over a memfd it can shrink (before, the daemon mapped it
// and died of SIGBUS when it shrank), and clients that connect to the Unix
// socket and say nothing (before, each held up every local client for 5 s).
// The daemon must refuse or outwait them and go on serving. Raw clients
// here speak the transport's set-up by hand (protocol/shm_transport.h).
#include <catch2/catch.hpp>

#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

#include "harness.h"
#include "protocol/fd_message.h"
#include "protocol/shm_transport.h"

namespace rcuda::itest {
namespace {

// Points this process (and so the servers and programs it starts) at a
// private socket directory, and back when done.
class PrivateSocketDir {
 public:
  PrivateSocketDir() {
    char tmpl[] = "/tmp/rcuda-hostile-shm-XXXXXX";
    if (mkdtemp(tmpl)) dir_ = tmpl;
    if (const char* old = getenv("RCUDA_SOCKET_DIR")) old_ = old;
    setenv("RCUDA_SOCKET_DIR", dir_.c_str(), 1);
  }
  ~PrivateSocketDir() {
    if (old_) {
      setenv("RCUDA_SOCKET_DIR", old_->c_str(), 1);
    } else {
      unsetenv("RCUDA_SOCKET_DIR");
    }
    rmdir(dir_.c_str());  // the server removed its socket when it stopped
  }
  std::string SocketOf(const TestServer& server) const { return dir_ + "/" + ShmSocketName(server.port()); }

 private:
  std::string dir_;
  std::optional<std::string> old_;
};

int ConnectUnix(const std::string& path) {
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (s >= 0 && connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(s);
    return -1;
  }
  return s;
}

bool SendSetup(int s, int memfd) {
  uint32_t magic = kShmSetupMagic;
  const int fds[] = {memfd};
  return SendWithFds(s, &magic, sizeof magic, fds) == static_cast<ssize_t>(sizeof magic);
}

// A fresh program computes through shared memory.
void RequireComputesOverShm(const TestServer& server, milliseconds limit) {
  auto start = Clock::now();
  Program p(BuildPaths::Probe(), {"compute", "2"}, ClientEnv(server.endpoint(), {"RCUDA_TRANSPORT=shm"}));
  auto rc = p.Wait(milliseconds(60000));
  INFO("--- stdout:\n" << p.Stdout() << "--- stderr:\n" << p.Stderr() << "--- server log:\n" << server.Log());
  REQUIRE(rc == 0);
  CHECK(p.Line("OK 2"));
  CHECK(Clock::now() - start < limit);
}

}  // namespace

TEST_CASE("a client's memfd that could shrink is refused, not mapped", "[hostile-client-shm-unsealed]") {
  PrivateSocketDir dir;
  TestServer server;
  INFO("server log:\n" << server.Log());
  REQUIRE(server.started());
  int s = ConnectUnix(dir.SocketOf(server));
  REQUIRE(s >= 0);
  // A memfd of the right size, without seals: its owner may shrink it.
  int memfd = memfd_create("hostile-unsealed", MFD_CLOEXEC);
  REQUIRE(memfd >= 0);
  REQUIRE(ftruncate(memfd, kShmRegionBytes) == 0);
  void* region = mmap(nullptr, kShmRegionBytes, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
  REQUIRE(region != MAP_FAILED);
  // One byte of a frame header, so that a daemon that maps the region is
  // seen to have read from it (ReadFrame reads the first byte alone).
  auto* ring0 = static_cast<char*>(region);
  auto* head = reinterpret_cast<std::atomic<uint64_t>*>(ring0 + kShmHeadOffset);
  auto* tail = reinterpret_cast<std::atomic<uint64_t>*>(ring0 + kShmTailOffset);
  ring0[kShmRingHeaderBytes] = 'R';
  tail->store(1);
  REQUIRE(SendSetup(s, memfd));
  // Either the daemon reads the byte (it mapped the region) or it refuses.
  bool read = WaitUntil([&] { return head->load() == 1 || server.Log().find("not sealed") != std::string::npos; },
                        milliseconds(10000));
  CHECK(read);
  const bool mapped = head->load() == 1;
  munmap(region, kShmRegionBytes);
  // Shrink it under the daemon: a daemon that mapped it dies of SIGBUS at
  // its next read from the ring.
  REQUIRE(ftruncate(memfd, 0) == 0);
  close(memfd);
  close(s);
  CHECK_FALSE(mapped);
  CHECK(server.WaitForLogLine({"not sealed"}, milliseconds(10000)));
  // The daemon must still serve.
  REQUIRE(server.Alive());
  RequireComputesOverShm(server, milliseconds(30000));
}

TEST_CASE("local clients that connect and say nothing hold up no one", "[hostile-client-shm-silent]") {
  PrivateSocketDir dir;
  TestServer server;
  INFO("server log:\n" << server.Log());
  REQUIRE(server.started());
  // Each of these would have held the daemon's local accepts for 5 s.
  std::vector<int> silent;
  for (int i = 0; i < 4; ++i) {
    int s = ConnectUnix(dir.SocketOf(server));
    REQUIRE(s >= 0);
    silent.push_back(s);
  }
  RequireComputesOverShm(server, milliseconds(10000));
  for (int s : silent) close(s);
  REQUIRE(server.Alive());
}

}  // namespace rcuda::itest
