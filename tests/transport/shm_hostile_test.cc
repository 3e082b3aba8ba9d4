// The shared-memory transport against a hostile peer: a client whose memfd
// is not sealed (it could shrink it under the server: SIGBUS), a peer that
// writes nonsense into the shared ring positions, clients that connect and
// say nothing, a listener run by a user the client does not trust, and the
// socket directory's choice. The hostile peer here is played by hand with
// the region's layout (protocol/shm_transport.h).
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <optional>
#include <thread>

#include "protocol/fd_message.h"
#include "protocol/shm_transport.h"

namespace rcuda {
namespace {

using Clock = std::chrono::steady_clock;

std::string TempDir() {
  char tmpl[] = "/tmp/rcuda-shm-hostile-XXXXXX";
  REQUIRE(mkdtemp(tmpl));
  return tmpl;
}

// Sets (or unsets, with nullptr) an environment variable for a scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = getenv(name)) old_ = old;
    if (value) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
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

// A listener on a fresh socket in a private directory.
struct Listening {
  std::string dir = TempDir();
  std::string path = dir + "/test.sock";
  std::unique_ptr<Listener> listener;
  Listening() { REQUIRE(ShmListen(path, &listener).ok()); }
  ~Listening() {
    listener.reset();
    rmdir(dir.c_str());
  }
};

// A hand-made client: its own memfd (sealed as told) and its own mapping,
// through which it writes the shared words as it likes.
struct RawPeer {
  int socket = -1, memfd = -1;
  char* region = nullptr;
  ~RawPeer() {
    if (region) munmap(region, kShmRegionBytes);
    if (memfd >= 0) close(memfd);
    if (socket >= 0) close(socket);
  }
  char* ring(int i) const { return region + i * (kShmRingHeaderBytes + kShmRingBytes); }
  std::atomic<uint64_t>& head(int i) const {
    return *reinterpret_cast<std::atomic<uint64_t>*>(ring(i) + kShmHeadOffset);
  }
  std::atomic<uint64_t>& tail(int i) const {
    return *reinterpret_cast<std::atomic<uint64_t>*>(ring(i) + kShmTailOffset);
  }
  char* data(int i) const { return ring(i) + kShmRingHeaderBytes; }
};

void MakePeer(const std::string& path, int seals, size_t size, RawPeer* p) {
  p->socket = ConnectUnix(path);
  REQUIRE(p->socket >= 0);
  p->memfd = memfd_create("hostile-peer", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  REQUIRE(p->memfd >= 0);
  REQUIRE(ftruncate(p->memfd, size) == 0);
  if (size >= kShmRegionBytes) {
    void* m = mmap(nullptr, kShmRegionBytes, PROT_READ | PROT_WRITE, MAP_SHARED, p->memfd, 0);
    REQUIRE(m != MAP_FAILED);
    p->region = static_cast<char*>(m);
  }
  if (seals) REQUIRE(fcntl(p->memfd, F_ADD_SEALS, seals) == 0);
  REQUIRE(SendSetup(p->socket, p->memfd));
}

// A properly set-up raw peer and the server's end of it.
void Connected(Listening& l, RawPeer* peer, std::unique_ptr<Connection>* server) {
  MakePeer(l.path, kShmRequiredSeals, kShmRegionBytes, peer);
  REQUIRE(l.listener->Accept(server).ok());
}

}  // namespace

TEST_CASE("a server refuses a client's memfd unless it is sealed and of the region's size", "[shm][hostile]") {
  Listening l;
  struct Case {
    const char* what;
    int seals;
    size_t size;
  };
  const Case cases[] = {
      {"no seals", 0, kShmRegionBytes},
      {"may still grow", F_SEAL_SHRINK | F_SEAL_SEAL, kShmRegionBytes},
      {"seals may still change", F_SEAL_SHRINK | F_SEAL_GROW, kShmRegionBytes},
      {"sealed but too small", kShmRequiredSeals, 4096},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    RawPeer peer;
    MakePeer(l.path, c.seals, c.size, &peer);
    std::unique_ptr<Connection> server;
    Status s = l.listener->Accept(&server);
    CHECK_FALSE(s.ok());
    CHECK(server == nullptr);
    if (s.ok() && c.size == kShmRegionBytes && !(c.seals & F_SEAL_SHRINK)) {
      // What the refusal prevents: the peer shrinks the region under a
      // server that mapped it, whose next look at the ring is a SIGBUS
      // (seen in a child, so that this test reports it instead of dying).
      REQUIRE(ftruncate(peer.memfd, 0) == 0);
      pid_t child = fork();
      if (child == 0) {
        char byte;
        server->ReadExact(&byte, 1);
        _exit(0);
      }
      int status = 0;
      waitpid(child, &status, 0);
      CHECK_FALSE((WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS));
    }
  }
  // A descriptor that is no memfd at all.
  int pipe_fds[2];
  REQUIRE(pipe(pipe_fds) == 0);
  int s = ConnectUnix(l.path);
  REQUIRE(SendSetup(s, pipe_fds[0]));
  std::unique_ptr<Connection> server;
  CHECK_FALSE(l.listener->Accept(&server).ok());
  close(s);
  close(pipe_fds[0]);
  close(pipe_fds[1]);
  // And a correct client still gets through.
  RawPeer good;
  Connected(l, &good, &server);
  CHECK(server != nullptr);
}

TEST_CASE("positions a peer writes out of range are an error, not an out-of-bounds copy", "[shm][hostile]") {
  Listening l;
  SECTION("the raw peer speaks the layout") {
    RawPeer peer;
    std::unique_ptr<Connection> server;
    Connected(l, &peer, &server);
    std::memcpy(peer.data(0), "abc", 3);
    peer.tail(0).store(3);
    char got[4] = {};
    REQUIRE(server->ReadExact(got, 3).ok());
    CHECK(std::string(got) == "abc");
    CHECK(peer.head(0).load() == 3);
  }
  struct Case {
    const char* what;
    uint64_t tail;
  };
  const Case reads[] = {
      {"more bytes than the ring holds", kShmRingBytes + 1},
      {"far beyond", uint64_t{1} << 62},
      {"behind the reader (wrapped)", ~uint64_t{0} - 5},
  };
  for (const Case& c : reads) {
    DYNAMIC_SECTION("a reader facing a producer position " << c.what) {
      RawPeer peer;
      std::unique_ptr<Connection> server;
      Connected(l, &peer, &server);
      peer.tail(0).store(c.tail);
      std::vector<char> buffer(4 << 20);
      auto start = Clock::now();
      Status s = server->ReadExact(buffer.data(), buffer.size());
      CHECK_FALSE(s.ok());
      CHECK(s.message().find("damaged") != std::string::npos);
      CHECK(Clock::now() - start < std::chrono::seconds(2));
    }
  }
  const Case writes[] = {
      {"ahead of the writer", 5},
      {"far behind the writer", ~uint64_t{0} - kShmRingBytes},
  };
  for (const Case& c : writes) {
    DYNAMIC_SECTION("a writer facing a consumer position " << c.what) {
      RawPeer peer;
      std::unique_ptr<Connection> server;
      Connected(l, &peer, &server);
      peer.head(1).store(c.tail);
      std::vector<char> bytes(64 << 10, 'x');
      ConstBuffer b{bytes.data(), bytes.size()};
      auto start = Clock::now();
      Status s = server->WriteAll(std::span(&b, 1));
      CHECK_FALSE(s.ok());
      CHECK(s.message().find("damaged") != std::string::npos);
      CHECK(Clock::now() - start < std::chrono::seconds(2));
    }
  }
}

TEST_CASE("a client that connects and sends nothing holds up no other client", "[shm][hostile]") {
  Listening l;
  std::vector<int> silent;
  for (int i = 0; i < 3; ++i) silent.push_back(ConnectUnix(l.path));
  std::unique_ptr<Connection> client, server;
  auto start = Clock::now();
  std::thread accept([&] { CHECK(l.listener->Accept(&server).ok()); });
  REQUIRE(ShmConnect(l.path, &client).ok());
  accept.join();
  // The set-up timeout is 5 s per client; none of it was waited for.
  CHECK(Clock::now() - start < std::chrono::seconds(3));
  REQUIRE(server != nullptr);
  char byte = 7;
  ConstBuffer b{&byte, 1};
  REQUIRE(client->WriteAll(std::span(&b, 1)).ok());
  char got = 0;
  REQUIRE(server->ReadExact(&got, 1).ok());
  CHECK(got == 7);
  for (int s : silent) close(s);
}

TEST_CASE("a client trusts a local listener only if it is root, itself or RCUDA_SERVER_UID", "[shm][hostile]") {
  CHECK(CheckServerUid(0, 1000, std::nullopt).ok());
  CHECK(CheckServerUid(1000, 1000, std::nullopt).ok());
  CHECK_FALSE(CheckServerUid(1001, 1000, std::nullopt).ok());
  CHECK(CheckServerUid(1001, 1000, uid_t{1001}).ok());
  CHECK_FALSE(CheckServerUid(1002, 1000, uid_t{1001}).ok());
  {
    ScopedEnv env("RCUDA_SERVER_UID", "4321");
    CHECK(ExpectedServerUid() == uid_t{4321});
  }
  {
    ScopedEnv env("RCUDA_SERVER_UID", "root");
    CHECK(ExpectedServerUid() == uid_t{0});
  }
  {
    ScopedEnv env("RCUDA_SERVER_UID", "no-such-user-rcuda");
    CHECK_FALSE(ExpectedServerUid());
  }
  if (geteuid() != 0) {
    WARN("not root: the end-to-end case of a listener of another user needs root to run one");
    return;
  }
  // A listener run by another user (nobody), as someone squatting the
  // socket's name would run it.
  const uid_t other = 65534;
  std::string dir = TempDir();
  chmod(dir.c_str(), 0777);
  const std::string path = dir + "/squatter.sock";
  int ready[2];
  REQUIRE(pipe(ready) == 0);
  pid_t child = fork();
  if (child == 0) {
    std::unique_ptr<Listener> listener;
    bool ok = setgid(other) == 0 && setuid(other) == 0 && ShmListen(path, &listener).ok();
    char c = ok ? 1 : 0;
    if (write(ready[1], &c, 1) != 1) _exit(1);
    pause();  // until killed
    _exit(0);
  }
  char c = 0;
  REQUIRE(read(ready[0], &c, 1) == 1);
  REQUIRE(c == 1);
  std::unique_ptr<Connection> connection;
  bool absent = true;
  Status s = ShmConnect(path, &connection, &absent);
  CHECK_FALSE(s.ok());
  CHECK_FALSE(absent);
  CHECK(s.message().find("uid 65534") != std::string::npos);
  {
    // Named as the expected server, it is trusted.
    ScopedEnv env("RCUDA_SERVER_UID", "65534");
    CHECK(ShmConnect(path, &connection).ok());
    connection.reset();
  }
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  close(ready[0]);
  close(ready[1]);
  unlink(path.c_str());
  rmdir(dir.c_str());
}

TEST_CASE("a server's socket goes in a directory only its user can write", "[shm][socket-dir]") {
  ScopedEnv no_dir("RCUDA_SOCKET_DIR", nullptr);
  std::string base = TempDir();
  ShmSocketDirs dirs{base + "/run-rcuda", base};
  const std::string fallback = base + "/rcuda-" + std::to_string(geteuid());
  std::string path, note;

  SECTION("the preferred directory, created 0755") {
    REQUIRE(ShmServerSocketPath(8308, &path, &note, dirs).ok());
    CHECK(path == dirs.preferred + "/rcuda-server-8308.sock");
    CHECK(note.empty());
    struct stat st;
    REQUIRE(stat(dirs.preferred.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0755);
    rmdir(dirs.preferred.c_str());
  }
  SECTION("a preferred directory others may write is not used") {
    REQUIRE(mkdir(dirs.preferred.c_str(), 0755) == 0);
    chmod(dirs.preferred.c_str(), 0777);
    REQUIRE(ShmServerSocketPath(8308, &path, &note, dirs).ok());
    CHECK(path == fallback + "/rcuda-server-8308.sock");
    CHECK(note.find("writable by other users") != std::string::npos);
    rmdir(dirs.preferred.c_str());
    rmdir(fallback.c_str());
  }
  SECTION("when the preferred directory cannot be made, the user's own, and it says so") {
    dirs.preferred = base + "/a-file/rcuda";
    std::ofstream(base + "/a-file") << "not a directory";
    REQUIRE(ShmServerSocketPath(8308, &path, &note, dirs).ok());
    CHECK(path == fallback + "/rcuda-server-8308.sock");
    CHECK(note.find("cannot create") != std::string::npos);
    if (geteuid() != 0) CHECK(note.find("RCUDA_SERVER_UID=" + std::to_string(geteuid())) != std::string::npos);
    unlink((base + "/a-file").c_str());
    rmdir(fallback.c_str());
  }
  SECTION("a fallback directory that is a symbolic link is refused") {
    dirs.preferred = base + "/a-file/rcuda";
    std::ofstream(base + "/a-file") << "not a directory";
    REQUIRE(symlink(base.c_str(), fallback.c_str()) == 0);
    CHECK_FALSE(ShmServerSocketPath(8308, &path, &note, dirs).ok());
    unlink(fallback.c_str());
    unlink((base + "/a-file").c_str());
  }
  SECTION("RCUDA_SOCKET_DIR decides for both sides") {
    const std::string chosen = base + "/chosen";
    ScopedEnv env("RCUDA_SOCKET_DIR", chosen.c_str());
    REQUIRE(ShmServerSocketPath(9000, &path, &note, dirs).ok());
    CHECK(path == chosen + "/rcuda-server-9000.sock");
    CHECK(ShmClientSocketPaths(9000, dirs) == std::vector<std::string>{path});
    rmdir(chosen.c_str());
  }
  SECTION("a client looks in the preferred directory, then RCUDA_SERVER_UID's, then its own") {
    ScopedEnv env("RCUDA_SERVER_UID", "4321");
    auto paths = ShmClientSocketPaths(8308, dirs);
    std::vector<std::string> want{dirs.preferred + "/rcuda-server-8308.sock",
                                  base + "/rcuda-4321/rcuda-server-8308.sock"};
    if (geteuid() != 4321) want.push_back(fallback + "/rcuda-server-8308.sock");
    CHECK(paths == want);
  }
  rmdir(base.c_str());
}

}  // namespace rcuda
