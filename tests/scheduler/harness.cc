#include "harness.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "scheduler/line_client.h"
#include "scheduler/request_auth.h"
#include "scheduler/ssgm_client.h"

extern char** environ;

namespace sched_test {

using rcuda::sched::Json;

// RCUDA_SCHED_BIN_DIR names another folder: a build carried to a GPU machine
// (scripts/pack-gpu-build.sh) is not where it was built.
std::string BinPath(const std::string& program) {
  const char* dir = std::getenv("RCUDA_SCHED_BIN_DIR");
  return std::string(dir && *dir ? dir : SCHED_BIN_DIR) + "/" + program;
}

std::string ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

void WriteFile(const std::string& path, const std::string& content) {
  std::string temp = path + ".tmp";
  std::ofstream(temp, std::ios::binary) << content;
  std::rename(temp.c_str(), path.c_str());
}

namespace {

pid_t SpawnRedirected(const std::vector<std::string>& argv, const std::string& out_path, const std::string& err_path,
                      const std::vector<std::string>& extra_env = {}) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (err_path == out_path) {
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
  } else {
    posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  }
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    std::string entry(*e);
    bool replaced = false;
    for (const auto& extra : extra_env) {
      replaced |= entry.substr(0, entry.find('=') + 1) == extra.substr(0, extra.find('=') + 1);
    }
    if (!replaced) env_strings.push_back(entry);
  }
  env_strings.insert(env_strings.end(), extra_env.begin(), extra_env.end());
  std::vector<char*> env;
  for (auto& e : env_strings) env.push_back(e.data());
  env.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + argv[0]);
  return pid;
}

}  // namespace

pid_t Spawn(const std::vector<std::string>& argv, const std::string& log_path) {
  return SpawnRedirected(argv, log_path, log_path);
}

int WaitExit(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

RunResult Run(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env) {
  static std::atomic<int> counter{0};
  std::string base = "/tmp/sched_run_" + std::to_string(getpid()) + "_" + std::to_string(counter++);
  auto start = std::chrono::steady_clock::now();
  pid_t pid = SpawnRedirected(argv, base + ".out", base + ".err", extra_env);
  RunResult result;
  result.exit_code = WaitExit(pid);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.out = ReadFile(base + ".out");
  result.err = ReadFile(base + ".err");
  std::remove((base + ".out").c_str());
  std::remove((base + ".err").c_str());
  return result;
}

bool WaitUntil(int timeout_ms, const std::function<bool()>& predicate) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (predicate()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return predicate();
}

Cluster::Cluster() {
  char pattern[] = "/tmp/sched_test_XXXXXX";
  if (!mkdtemp(pattern)) throw std::runtime_error("mkdtemp failed");
  dir_ = pattern;
  key_ = "integration-test-key-0123456789abcdef";
  WriteFile(Path("key"), key_ + "\n");
}

Cluster::~Cluster() {
  for (pid_t pid : monitors_) {
    kill(pid, SIGKILL);
    WaitExit(pid);
  }
  if (ssgmd_pid_ > 0) {
    kill(ssgmd_pid_, SIGKILL);
    WaitExit(ssgmd_pid_);
  }
  if (!std::getenv("SCHED_TEST_KEEP")) {
    std::string command = "rm -rf '" + dir_ + "'";
    if (std::system(command.c_str()) != 0) {
      // Leftovers in /tmp are harmless.
    }
  }
}

void Cluster::StartSsgmd(const std::vector<std::string>& extra) {
  std::string port_file = Path("ssgmd.port");
  std::remove(port_file.c_str());
  std::vector<std::string> argv = {BinPath("ssgmd"), "--listen", "127.0.0.1", "--port", std::to_string(port_),
                                   "--port-file", port_file, "--journal", Path("ssgmd.journal"),
                                   "--auth-key-file", Path("key"), "--log-level", "debug"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  ssgmd_pid_ = Spawn(argv, Path("ssgmd." + std::to_string(ssgmd_starts_++) + ".log"));
  if (!WaitUntil(5000, [&] { return !ReadFile(port_file).empty(); })) {
    throw std::runtime_error("ssgmd did not start; see " + dir_);
  }
  port_ = uint16_t(std::stoi(ReadFile(port_file)));
}

void Cluster::KillSsgmd(int signal) {
  kill(ssgmd_pid_, signal);
  WaitExit(ssgmd_pid_);
  ssgmd_pid_ = -1;
}

pid_t Cluster::StartMonitor(const std::string& node, const std::string& inventory,
                            const std::vector<std::string>& extra) {
  std::string inventory_path = Path(node + ".inventory");
  WriteFile(inventory_path, inventory);
  std::vector<std::string> argv = {BinPath("rcuda-gpu-monitor"), "--scheduler", server(), "--node-name", node,
                                   "--advertise-host", "127.0.0.1", "--inventory", inventory_path,
                                   "--interval", "100ms"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  pid_t pid = Spawn(argv, Path(node + ".monitor.log"));
  monitors_.push_back(pid);
  return pid;
}

void Cluster::StopMonitor(pid_t pid) {
  kill(pid, SIGKILL);
  WaitExit(pid);
  std::erase(monitors_, pid);
}

RunResult Cluster::Ssgm(const std::vector<std::string>& args, const std::vector<std::string>& extra_env) {
  std::vector<std::string> argv = {BinPath("ssgm"), "--server", server()};
  argv.insert(argv.end(), args.begin(), args.end());
  return Run(argv, extra_env);
}

Json Cluster::Ask(const std::string& line, const std::string& key) {
  rcuda::sched::LineClient client;
  rcuda::Status s = client.Connect("127.0.0.1", port_, 2000);
  std::string text = key.empty() ? line : rcuda::sched::SignRequestLine(line, key, rcuda::sched::UnixMillisNow());
  if (s.ok()) s = client.WriteLine(text, 2000);
  std::string reply_line;
  if (s.ok()) s = client.ReadLine(&reply_line, 5000);
  Json reply;
  if (s.ok()) s = rcuda::sched::ParseJson(reply_line, &reply);
  if (!s.ok()) throw std::runtime_error("ask ssgmd: " + s.ToString());
  return reply;
}

Json Cluster::Status() {
  rcuda::sched::SsgmClientOptions options;
  options.port = port_;
  options.retry_for_ms = 5000;
  options.client_key = client_key;
  Json reply;
  rcuda::Status s = rcuda::sched::CallSsgmd(
      options,
      [](int64_t) {
        Json message = Json::Object();
        message.Set("op", "status");
        return message;
      },
      0, &reply);
  if (!s.ok()) throw std::runtime_error("status: " + s.ToString());
  return reply;
}

bool Cluster::NodeLive(const std::string& node) {
  Json status = Status();
  for (const Json& n : status.Find("nodes")->items()) {
    if (n.Find("node")->AsString() == node) return n.Find("live")->AsBool();
  }
  return false;
}

}  // namespace sched_test
