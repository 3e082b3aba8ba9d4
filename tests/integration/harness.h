// What the fault tests drive: a private rcuda-server (TEST backend) on a free
// port, CUDA programs run through rcuda-run with pipes to talk to them, and a
// raw protocol client that sends what the real client never would.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "protocol/frame.h"

namespace rcuda::itest {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Paths of the build, compiled in by tests/integration/CMakeLists.txt.
struct BuildPaths {
  static std::string Server() { return RCUDA_ITEST_SERVER; }
  static std::string Run() { return RCUDA_ITEST_RUN; }
  static std::string Probe() { return RCUDA_ITEST_PROBE; }
  static std::string StaticProbe() { return RCUDA_ITEST_STATIC_PROBE; }
  static std::string Plugin() { return RCUDA_ITEST_PLUGIN; }
#ifdef RCUDA_ITEST_FAKE_DRIVER_DIR
  static std::string FakeDriverDir() { return RCUDA_ITEST_FAKE_DRIVER_DIR; }
#endif
#ifdef RCUDA_ITEST_HOSTILE_FATBIN
  static std::string HostileFatbin() { return RCUDA_ITEST_HOSTILE_FATBIN; }
#endif
};

std::string ReadFile(const std::string& path);

// Polls `done` every 20 ms until it holds or `timeout` passes.
bool WaitUntil(const std::function<bool()>& done, milliseconds timeout);

// A port on 127.0.0.1 where nothing listens (bound, then released).
uint16_t UnusedPort();

bool ProcessExists(pid_t pid);
// Resident memory of a process in bytes (0 if it is gone).
uint64_t ResidentBytes(pid_t pid);
// A bound on how much a process's resident memory may grow, as the test
// means it: in a build with AddressSanitizer (scripts/test.sh's sanitizer
// stage, where the daemon and workers are sanitized as the test is) a
// process is also resident for ASan's shadow (an eighth of what it touches)
// and for the freed blocks in its quarantine (quarantine_size_mb in
// tests/sanitizers/asan.options), which the bound allows for.
uint64_t ResidentGrowthBound(uint64_t bytes);
// Live processes whose command line contains every one of `words`.
std::vector<pid_t> ProcessesWith(const std::vector<std::string>& words);

// The processes holding the server side of the TCP connection between
// 127.0.0.1:`server_port` and 127.0.0.1:`client_port`, as "pid cmdline"
// (for diagnostics: whoever keeps a session's socket open keeps the client
// from seeing the session end).
std::vector<std::string> HoldersOfConnection(uint16_t server_port, uint16_t client_port);

// One session of the server's --status-file.
struct SessionEntry {
  uint64_t id;
  pid_t worker_pid;
  std::string peer;
};

// rcuda-server --backend test on 127.0.0.1, a free port, a status file and
// a log, in a temporary directory. Stopped (and its workers killed) when
// destroyed.
class TestServer {
 public:
  struct Options {
    uint64_t test_memory = 0;  // 0: the server's default
    int warm_workers = -1;     // -1: the server's default
    std::string log_level = "info";
    // "test" (the CUDA executor on the fake libcuda.so.1 of
    // tests/fake_driver, TEST EQUIPMENT, opened by path), or "cuda" on the
    // same fake found through LD_LIBRARY_PATH, which only the server sees.
    std::string backend = "test";
    std::vector<std::string> extra_args;  // more rcuda-server options
    std::vector<std::string> env;         // NAME=VALUE for the server
  };
  TestServer() : TestServer(Options{}) {}
  explicit TestServer(Options options);
  ~TestServer();
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  bool started() const { return port_ != 0; }
  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string endpoint() const { return "127.0.0.1@" + std::to_string(port_); }
  std::string Log() const { return ReadFile(dir_ + "/server.log"); }
  std::string log_path() const { return dir_ + "/server.log"; }
  // Waits until a log line contains every one of `words`.
  bool WaitForLogLine(const std::vector<std::string>& words, milliseconds timeout) const;

  std::string dir() const { return dir_; }
  std::vector<SessionEntry> Sessions() const;
  bool Alive() const;
  // SIGKILLs the daemon and every session worker it listed.
  void KillAll();
  // The daemon's worker processes (warm or serving) still alive.
  std::vector<pid_t> WorkerProcesses() const;
  // Waits until a warm worker (a worker serving no session) is up, so that
  // the next session is handed to it rather than to a worker started on
  // demand: each test then takes the path it means to (on-demand workers
  // have their own test, [on-demand-worker]).
  bool WaitForWarmWorker(milliseconds timeout = milliseconds(10000)) const;

 private:
  std::string dir_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  bool killed_ = false;
};

// A program run through rcuda-run against one endpoint, with its stdin and
// stdout on pipes and its stderr in a file.
class Program {
 public:
  // `args` follow the program; `env` entries are NAME=VALUE, added to (or
  // replacing) this process's environment.
  Program(const std::string& program, const std::vector<std::string>& args, const std::vector<std::string>& env,
          bool through_rcuda_run = true);
  ~Program();
  Program(const Program&) = delete;
  Program& operator=(const Program&) = delete;

  pid_t pid() const { return pid_; }
  // Reads stdout until a line starting with `prefix` arrives; returns it,
  // or nullopt on timeout or end of output.
  std::optional<std::string> WaitForLine(const std::string& prefix, milliseconds timeout);
  void SendLine(const std::string& line);
  // Waits for the exit; the exit status, 128+signal, or nullopt on timeout
  // (then the program is killed).
  std::optional<int> Wait(milliseconds timeout);
  void Kill(int signal);
  // All stdout so far (read to the end once the program exited).
  const std::string& Stdout() const { return out_; }
  std::string Stderr() const;
  // The first stdout line that starts with `prefix`, if any.
  std::optional<std::string> Line(const std::string& prefix) const;

 private:
  bool ReadSome(milliseconds timeout);

  std::string dir_;
  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  std::string out_;
  size_t scanned_ = 0;
  std::optional<int> status_;
};

// Whether this run is a UCX variant (RCUDA_ITEST_TRANSPORT=ucx): programs
// then demand UCX ("ucx://" before the endpoint) and RawClient::Connect(port)
// connects over UCX.
bool OverUcx();

// Environment that points rcuda's client at `server`.
std::vector<std::string> ClientEnv(const std::string& endpoint, const std::vector<std::string>& extra = {});

// How a raw client reaches the server: TCP, the shared-memory transport of
// a client on the server's host, or UCX (a TCP bootstrap its worker
// upgrades).
enum class Via { kTcp, kShm, kUcx };
const char* ViaName(Via via);
// The shared-memory socket of the local server on `port`, where the client
// library finds it.
std::string ServerShmSocket(uint16_t port);

// What a raw client's Hello says.
struct HelloFields {
  uint32_t version = 0;  // 0: this build's protocol version
  int gpu = 0;
  std::string token;
  std::string attach_key;
};

// A protocol client speaking directly on a TCP or shared-memory connection.
class RawClient {
 public:
  // Over UCX in a UCX variant (OverUcx()), else TCP.
  Status Connect(uint16_t port);
  Status Connect(uint16_t port, Via via);
  // Sends a Hello of `version` and receives the reply; *reply is valid
  // until the next Receive.
  Status Hello(uint32_t version, const wire::Reply** reply);
  Status Hello(const HelloFields& fields, const wire::Reply** reply);
  Status SendHello(uint32_t version);
  Status SendHello(const HelloFields& fields);
  // Sends one message built by `build` (which returns the request body) with
  // the next id, plus `bulk`.
  Status Send(wire::Request type, const std::function<flatbuffers::Offset<void>(flatbuffers::FlatBufferBuilder&)>& build,
              std::span<const uint8_t> bulk = {});
  // Gives up (and shuts the connection down) after `timeout`.
  Status Receive(const wire::Reply** reply, std::vector<uint8_t>* bulk = nullptr,
                 milliseconds timeout = milliseconds(30000));
  Status WriteRaw(const void* data, size_t size);
  // True when the server closes the connection within `timeout`
  // (everything it still sends is read and dropped).
  bool WaitClosed(milliseconds timeout);
  // Whether the server has closed the connection, without waiting.
  bool Closed();
  // The local port: the server's logs name the session by it.
  uint16_t local_port() const;
  uint64_t next_id() const { return next_id_; }
  void set_next_id(uint64_t id) { next_id_ = id; }
  Connection& connection() { return *connection_; }

 private:
  std::unique_ptr<Connection> connection_;
  flatbuffers::FlatBufferBuilder builder_;
  std::vector<uint8_t> reply_;
  uint64_t next_id_ = 1;
};

}  // namespace rcuda::itest
