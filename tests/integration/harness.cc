#include "harness.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "protocol/shm_socket.h"
#include "protocol/shm_transport.h"
#include "protocol/tcp_transport.h"
#include "protocol/ucx/ucx_transport.h"
#include "protocol/version.h"

extern char** environ;

namespace rcuda::itest {
namespace {

std::string MakeTempDir(const char* what) {
  std::string pattern = std::filesystem::temp_directory_path().string() + "/rcuda-itest-" + what + "-XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data())) return "";
  return buf.data();
}

// Keeps the temporary directories (logs) when RCUDA_KEEP_TEST_DIRS is set.
void RemoveDir(const std::string& dir) {
  if (dir.empty() || std::getenv("RCUDA_KEEP_TEST_DIRS")) return;
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

std::vector<std::string> MergedEnvironment(const std::vector<std::string>& extra) {
  std::map<std::string, std::string> vars;
  for (char** e = environ; *e; ++e) {
    std::string s = *e;
    size_t eq = s.find('=');
    if (eq != std::string::npos) vars[s.substr(0, eq)] = s.substr(eq + 1);
  }
  for (const auto& s : extra) {
    size_t eq = s.find('=');
    if (eq != std::string::npos) vars[s.substr(0, eq)] = s.substr(eq + 1);
  }
  std::vector<std::string> out;
  for (const auto& [k, v] : vars) out.push_back(k + "=" + v);
  return out;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Reaps `pid` within `timeout`; true when it exited.
bool Reap(pid_t pid, milliseconds timeout, int* status) {
  auto deadline = Clock::now() + timeout;
  while (true) {
    pid_t r = waitpid(pid, status, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(10));
  }
}

}  // namespace

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool WaitUntil(const std::function<bool()>& done, milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(20));
  }
  return true;
}

uint16_t UnusedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  uint16_t port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

bool ProcessExists(pid_t pid) {
  if (pid <= 0) return false;
  // A zombie is gone for our purposes: its memory is already returned.
  std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  if (stat.empty()) return false;
  size_t close_paren = stat.rfind(')');
  return close_paren != std::string::npos && close_paren + 2 < stat.size() && stat[close_paren + 2] != 'Z';
}

uint64_t ResidentGrowthBound(uint64_t bytes) {
#if defined(__SANITIZE_ADDRESS__)
  constexpr uint64_t kQuarantine = 32ull << 20;  // quarantine_size_mb=32
  return bytes + bytes / 8 + kQuarantine;
#else
  return bytes;
#endif
}

uint64_t ResidentBytes(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10) * 1024;
  }
  return 0;
}

std::vector<pid_t> ProcessesWith(const std::vector<std::string>& words) {
  std::vector<pid_t> out;
  DIR* proc = opendir("/proc");
  if (!proc) return out;
  while (dirent* e = readdir(proc)) {
    pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
    if (pid <= 0 || !ProcessExists(pid)) continue;
    std::string cmdline = ReadFile("/proc/" + std::string(e->d_name) + "/cmdline");
    for (char& c : cmdline)
      if (c == '\0') c = ' ';
    cmdline = " " + cmdline;
    bool all = true;
    for (const auto& w : words) all = all && cmdline.find(w) != std::string::npos;
    if (all) out.push_back(pid);
  }
  closedir(proc);
  return out;
}

std::vector<std::string> HoldersOfConnection(uint16_t server_port, uint16_t client_port) {
  char local[32], remote[32];
  std::snprintf(local, sizeof local, "0100007F:%04X", server_port);
  std::snprintf(remote, sizeof remote, "0100007F:%04X", client_port);
  std::string inode;
  std::istringstream tcp(ReadFile("/proc/net/tcp"));
  std::string line;
  while (std::getline(tcp, line)) {
    std::istringstream fields(line);
    std::string sl, l, r, st, queues, tr, retr, uid, timeout, ino;
    fields >> sl >> l >> r >> st >> queues >> tr >> retr >> uid >> timeout >> ino;
    if (l == local && r == remote) inode = ino;
  }
  std::vector<std::string> out;
  if (inode.empty() || inode == "0") return out;
  const std::string target = "socket:[" + inode + "]";
  DIR* proc = opendir("/proc");
  if (!proc) return out;
  while (dirent* e = readdir(proc)) {
    if (std::atoi(e->d_name) <= 0) continue;
    std::string fd_dir = "/proc/" + std::string(e->d_name) + "/fd";
    DIR* fds = opendir(fd_dir.c_str());
    if (!fds) continue;
    while (dirent* f = readdir(fds)) {
      char link[256];
      ssize_t n = readlink((fd_dir + "/" + f->d_name).c_str(), link, sizeof link - 1);
      if (n <= 0) continue;
      link[n] = '\0';
      if (target == link) {
        std::string cmdline = ReadFile("/proc/" + std::string(e->d_name) + "/cmdline");
        for (char& c : cmdline)
          if (c == '\0') c = ' ';
        out.push_back(std::string(e->d_name) + " (fd " + f->d_name + ") " + cmdline);
      }
    }
    closedir(fds);
  }
  closedir(proc);
  return out;
}

// ---- TestServer -------------------------------------------------------------

TestServer::TestServer(Options options) {
  dir_ = MakeTempDir("server");
  if (dir_.empty()) return;
  std::vector<std::string> args = {BuildPaths::Server(), "--backend",   options.backend, "--test-kernels",
                                   BuildPaths::Plugin(), "--listen",    "127.0.0.1", "--port",
                                   "0",                  "--port-file", dir_ + "/port", "--status-file",
                                   dir_ + "/status.json", "--log-level", options.log_level};
  args.insert(args.end(), options.extra_args.begin(), options.extra_args.end());
  // More options for every server of the run, space-separated (the fault
  // tests' TLS variants, tests/integration/CMakeLists.txt).
  if (const char* more = std::getenv("RCUDA_ITEST_SERVER_ARGS")) {
    std::istringstream words(more);
    for (std::string word; words >> word;) args.push_back(word);
  }
  std::vector<std::string> env = options.env;
#ifdef RCUDA_ITEST_FAKE_DRIVER_DIR
  if (options.backend == "cuda") {
    // TEST EQUIPMENT: the fake libcuda.so.1 runs the plugin's host kernels.
    env.push_back("LD_LIBRARY_PATH=" + BuildPaths::FakeDriverDir());
    env.push_back("RCUDA_FAKE_DRIVER_KERNELS=" + BuildPaths::Plugin());
  }
#endif
  std::vector<std::string> env_strings = MergedEnvironment(env);
  if (options.warm_workers >= 0) {
    args.push_back("--warm-workers");
    args.push_back(std::to_string(options.warm_workers));
  }
  if (options.test_memory) {
    args.push_back("--test-memory");
    args.push_back(std::to_string(options.test_memory));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, (dir_ + "/server.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  auto argv = CStrings(args);
  auto envp = CStrings(env_strings);
  if (posix_spawn(&pid_, args[0].c_str(), &actions, nullptr, argv.data(), envp.data()) != 0) pid_ = -1;
  posix_spawn_file_actions_destroy(&actions);
  if (pid_ < 0) return;
  const std::string port_file = dir_ + "/port";
  if (WaitUntil([&] { return !ReadFile(port_file).empty() || !ProcessExists(pid_); }, milliseconds(15000))) {
    port_ = static_cast<uint16_t>(std::atoi(ReadFile(port_file).c_str()));
  }
  // The first warm worker starts just after the port is open; a session
  // that arrives before it gets a worker started on demand.
  if (port_) WaitForWarmWorker();
}

TestServer::~TestServer() {
  if (pid_ > 0 && !killed_) {
    kill(pid_, SIGTERM);
    int status;
    if (!Reap(pid_, milliseconds(10000), &status)) {
      kill(pid_, SIGKILL);
      Reap(pid_, milliseconds(5000), &status);
    }
  }
  // Workers end with their daemon; any left behind (a test failed midway)
  // are ours: this server's port is on their command line.
  if (port_) {
    for (pid_t w : WorkerProcesses()) kill(w, SIGKILL);
  }
  RemoveDir(dir_);
}

bool TestServer::WaitForLogLine(const std::vector<std::string>& words, milliseconds timeout) const {
  return WaitUntil(
      [&] {
        std::istringstream log(Log());
        std::string line;
        while (std::getline(log, line)) {
          bool all = true;
          for (const auto& w : words) all = all && line.find(w) != std::string::npos;
          if (all) return true;
        }
        return false;
      },
      timeout);
}

std::vector<SessionEntry> TestServer::Sessions() const {
  std::vector<SessionEntry> out;
  std::string json = ReadFile(dir_ + "/status.json");
  static const std::regex entry(R"re(\{"id":(\d+),"gpu":-?\d+,"worker_pid":(\d+),"peer":"([^"]*)")re");
  for (auto it = std::sregex_iterator(json.begin(), json.end(), entry); it != std::sregex_iterator(); ++it) {
    out.push_back(SessionEntry{std::stoull((*it)[1]), static_cast<pid_t>(std::stol((*it)[2])), (*it)[3]});
  }
  return out;
}

bool TestServer::Alive() const {
  if (pid_ <= 0 || killed_) return false;
  int status;
  return waitpid(pid_, &status, WNOHANG) == 0;
}

void TestServer::KillAll() {
  std::vector<SessionEntry> sessions = Sessions();
  kill(pid_, SIGKILL);
  for (const auto& s : sessions) kill(s.worker_pid, SIGKILL);
  int status;
  Reap(pid_, milliseconds(5000), &status);
  killed_ = true;
}

std::vector<pid_t> TestServer::WorkerProcesses() const {
  return ProcessesWith({" --worker-control-fd ", " --port " + std::to_string(port_) + " "});
}

bool TestServer::WaitForWarmWorker(milliseconds timeout) const {
  return WaitUntil(
      [&] {
        std::vector<SessionEntry> sessions = Sessions();
        for (pid_t w : WorkerProcesses()) {
          bool serving = false;
          for (const auto& s : sessions) serving = serving || s.worker_pid == w;
          if (!serving) return true;
        }
        return false;
      },
      timeout);
}

// ---- Program ----------------------------------------------------------------

Program::Program(const std::string& program, const std::vector<std::string>& args, const std::vector<std::string>& env,
                 bool through_rcuda_run) {
  dir_ = MakeTempDir("program");
  std::vector<std::string> argv_strings;
  if (through_rcuda_run) {
    argv_strings = {BuildPaths::Run(), "--"};
  }
  argv_strings.push_back(program);
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<std::string> program_env = env;
  // The sanitizer build's client library needs the sanitizer runtime in the
  // (uninstrumented) program: scripts/test.sh names it here.
  if (const char* preload = std::getenv("RCUDA_TEST_PRELOAD"); preload && *preload) {
    program_env.insert(program_env.begin(), std::string("LD_PRELOAD=") + preload);
  }
  auto env_strings = MergedEnvironment(program_env);

  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0) return;
  if (pipe2(out, O_CLOEXEC) != 0) return;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_addopen(&actions, 2, (dir_ + "/stderr").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  auto argv = CStrings(argv_strings);
  auto envp = CStrings(env_strings);
  if (posix_spawn(&pid_, argv_strings[0].c_str(), &actions, nullptr, argv.data(), envp.data()) != 0) pid_ = -1;
  posix_spawn_file_actions_destroy(&actions);
  close(in[0]);
  close(out[1]);
  stdin_fd_ = in[1];
  stdout_fd_ = out[0];
}

Program::~Program() {
  if (pid_ > 0 && !status_) {
    kill(pid_, SIGKILL);
    int status;
    Reap(pid_, milliseconds(5000), &status);
  }
  if (stdin_fd_ >= 0) close(stdin_fd_);
  if (stdout_fd_ >= 0) close(stdout_fd_);
  RemoveDir(dir_);
}

bool Program::ReadSome(milliseconds timeout) {
  if (stdout_fd_ < 0) return false;
  pollfd p{stdout_fd_, POLLIN, 0};
  int r = poll(&p, 1, static_cast<int>(timeout.count()));
  if (r <= 0) return false;
  char buf[4096];
  ssize_t n = read(stdout_fd_, buf, sizeof buf);
  if (n <= 0) {
    close(stdout_fd_);
    stdout_fd_ = -1;
    return false;
  }
  out_.append(buf, static_cast<size_t>(n));
  return true;
}

std::optional<std::string> Program::WaitForLine(const std::string& prefix, milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (true) {
    size_t pos = scanned_;
    while (true) {
      size_t end = out_.find('\n', pos);
      if (end == std::string::npos) break;
      std::string line = out_.substr(pos, end - pos);
      pos = end + 1;
      if (line.rfind(prefix, 0) == 0) {
        scanned_ = pos;
        return line;
      }
    }
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    if (left.count() <= 0 || stdout_fd_ < 0) return std::nullopt;
    ReadSome(std::min(left, milliseconds(100)));
  }
}

void Program::SendLine(const std::string& line) {
  std::string l = line + "\n";
  ssize_t ignored = write(stdin_fd_, l.data(), l.size());
  (void)ignored;
}

std::optional<int> Program::Wait(milliseconds timeout) {
  if (status_) return status_;
  auto deadline = Clock::now() + timeout;
  while (true) {
    int status;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      while (ReadSome(milliseconds(200))) {
      }
      status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return status_;
    }
    if (Clock::now() >= deadline) {
      kill(pid_, SIGKILL);
      Reap(pid_, milliseconds(5000), &status);
      status_ = 128 + SIGKILL;
      return std::nullopt;
    }
    // Keep the pipe drained so that the program never blocks on it.
    if (!ReadSome(milliseconds(20))) std::this_thread::sleep_for(milliseconds(10));
  }
}

void Program::Kill(int signal) { kill(pid_, signal); }

std::string Program::Stderr() const { return ReadFile(dir_ + "/stderr"); }

std::optional<std::string> Program::Line(const std::string& prefix) const {
  std::istringstream in(out_);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(prefix, 0) == 0) return line;
  return std::nullopt;
}

bool OverUcx() {
  const char* v = std::getenv("RCUDA_ITEST_TRANSPORT");
  return v && std::string(v) == "ucx";
}

std::vector<std::string> ClientEnv(const std::string& endpoint, const std::vector<std::string>& extra) {
  // The UCX variants demand UCX ("ucx://"): a server that did not upgrade
  // fails the program instead of passing over TCP.
  const std::string scheme = OverUcx() && endpoint.find("://") == std::string::npos ? "ucx://" : "";
  std::vector<std::string> env = {"RCUDA_DEVICE_COUNT=1", "RCUDA_DEVICE_0=" + scheme + endpoint};
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

// ---- RawClient --------------------------------------------------------------

const char* ViaName(Via via) {
  switch (via) {
    case Via::kTcp: return "tcp";
    case Via::kShm: return "shared memory";
    case Via::kUcx: return "ucx";
  }
  return "?";
}

std::string ServerShmSocket(uint16_t port) {
  // Where the client library would look, the first that exists.
  std::vector<std::string> paths = ShmClientSocketPaths(port);
  for (const std::string& path : paths) {
    struct stat st;
    if (stat(path.c_str(), &st) == 0) return path;
  }
  return paths.empty() ? std::string() : paths.front();
}

Status RawClient::Connect(uint16_t port) { return Connect(port, OverUcx() ? Via::kUcx : Via::kTcp); }

Status RawClient::Connect(uint16_t port, Via via) {
  next_id_ = 1;
  if (via == Via::kShm) return ShmConnect(ServerShmSocket(port), &connection_);
  if (via == Via::kUcx) {
    UcxOptions options;
    options.required = true;  // Hello() checks that the server upgraded
    return UcxConnect("127.0.0.1", port, options, &connection_);
  }
  TcpOptions options;
  options.connect_timeout = milliseconds(5000);
  return TcpConnect("127.0.0.1", port, options, &connection_);
}

Status RawClient::Hello(uint32_t version, const wire::Reply** reply) {
  HelloFields fields;
  fields.version = version;
  return Hello(fields, reply);
}

Status RawClient::Hello(const HelloFields& fields, const wire::Reply** reply) {
  RCUDA_RETURN_IF_ERROR(SendHello(fields));
  RCUDA_RETURN_IF_ERROR(Receive(reply));
  // Over UCX, a reply that came on the bootstrap socket means that the
  // server did not upgrade: the test would not test UCX.
  const wire::HelloReply* hr = (*reply)->body_as_HelloReply();
  std::string warning;
  if (hr && hr->accepted()) return UcxConfirm(*connection_, &warning);
  return Status::Ok();
}

Status RawClient::SendHello(uint32_t version) {
  HelloFields fields;
  fields.version = version;
  return SendHello(fields);
}

Status RawClient::SendHello(const HelloFields& fields) {
  return Send(wire::Request::Hello, [&](flatbuffers::FlatBufferBuilder& b) {
    auto program = b.CreateString("rcuda-itest-raw-client");
    auto host = b.CreateString("localhost");
    auto token = fields.token.empty() ? 0 : b.CreateString(fields.token);
    auto key = fields.attach_key.empty() ? 0 : b.CreateString(fields.attach_key);
    // As the client library does: the transport it wants (UCX rides on TCP).
    auto transport = b.CreateString(connection_->Kind());
    wire::HelloBuilder hello(b);
    hello.add_protocol_version(fields.version ? fields.version : kProtocolVersion);
    hello.add_client_host(host);
    hello.add_client_pid(static_cast<uint32_t>(getpid()));
    hello.add_program(program);
    hello.add_gpu(fields.gpu);
    if (!fields.token.empty()) hello.add_token(token);
    if (!fields.attach_key.empty()) hello.add_attach_key(key);
    hello.add_transport(transport);
    return hello.Finish().Union();
  });
}

Status RawClient::Send(wire::Request type,
                       const std::function<flatbuffers::Offset<void>(flatbuffers::FlatBufferBuilder&)>& build,
                       std::span<const uint8_t> bulk) {
  builder_.Clear();
  auto body = build(builder_);
  wire::MessageBuilder message(builder_);
  message.add_id(next_id_++);
  message.add_request_type(type);
  message.add_request(body);
  builder_.Finish(message.Finish());
  ConstBuffer b{bulk.data(), bulk.size()};
  return WriteFrame(*connection_, std::span(builder_.GetBufferPointer(), builder_.GetSize()),
                    bulk.empty() ? std::span<const ConstBuffer>() : std::span(&b, 1));
}

Status RawClient::Receive(const wire::Reply** reply, std::vector<uint8_t>* bulk, milliseconds timeout) {
  // A server that never answers must fail the test, not hang it.
  std::mutex mu;
  std::condition_variable cv;
  bool done = false, expired = false;
  std::thread guard([&] {
    std::unique_lock lock(mu);
    if (!cv.wait_for(lock, timeout, [&] { return done; })) {
      expired = true;
      connection_->Shutdown();
    }
  });
  auto read = [&]() -> Status {
    FrameHeader header;
    RCUDA_RETURN_IF_ERROR(ReadFrame(*connection_, &header, &reply_));
    *reply = VerifiedReply(reply_);
    if (!*reply) return Status::Corruption("malformed reply");
    if (header.bulk_bytes > (4ull << 30)) return Status::Corruption("reply bulk too large for a test");
    if (header.bulk_bytes) {
      std::vector<uint8_t> data(header.bulk_bytes);
      RCUDA_RETURN_IF_ERROR(connection_->ReadExact(data.data(), data.size()));
      if (bulk) *bulk = std::move(data);
    }
    return Status::Ok();
  };
  Status s = read();
  {
    std::lock_guard lock(mu);
    done = true;
  }
  cv.notify_all();
  guard.join();
  if (expired) return Status::Unavailable("no reply within " + std::to_string(timeout.count()) + " ms");
  return s;
}

Status RawClient::WriteRaw(const void* data, size_t size) {
  ConstBuffer b{data, size};
  return connection_->WriteAll(std::span(&b, 1));
}

bool RawClient::WaitClosed(milliseconds timeout) {
  int fd = connection_->NativeHandle();
  auto deadline = Clock::now() + timeout;
  char buf[4096];
  while (true) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0) return true;
    if (n < 0 && errno != EAGAIN && errno != EINTR) return true;  // reset
  }
}

bool RawClient::Closed() {
  int fd = connection_->NativeHandle();
  pollfd p{fd, POLLIN | POLLRDHUP, 0};
  if (poll(&p, 1, 0) <= 0) return false;
  if (p.revents & (POLLHUP | POLLERR | POLLRDHUP)) return true;
  char byte;
  ssize_t n = recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR);
}

uint16_t RawClient::local_port() const {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (getsockname(connection_->NativeHandle(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  if (addr.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  return 0;
}

}  // namespace rcuda::itest
