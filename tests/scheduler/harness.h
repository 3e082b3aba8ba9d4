// Test harness for the scheduler's integration tests: runs the real ssgmd,
// rcuda-gpu-monitor and ssgm binaries (from SCHED_BIN_DIR) in a private
// temporary directory, on free ports.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "scheduler/json.h"

namespace sched_test {

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
  double seconds = 0;
};

std::string BinPath(const std::string& program);

// Starts a program; its stdout and stderr go to `log_path`.
pid_t Spawn(const std::vector<std::string>& argv, const std::string& log_path);
// Waits for it; returns its exit code (128 + signal if killed).
int WaitExit(pid_t pid);
// Runs a program to completion, capturing its output; `extra_env` entries
// ("NAME=value") are added to (or replace those of) this process's environment.
RunResult Run(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env = {});
std::string ReadFile(const std::string& path);
void WriteFile(const std::string& path, const std::string& content);
// Polls `predicate` every 20 ms until true or the timeout passes.
bool WaitUntil(int timeout_ms, const std::function<bool()>& predicate);

// A private directory with a lease key, an inventory, one ssgmd and monitors.
class Cluster {
 public:
  Cluster();
  ~Cluster();

  const std::string& dir() const { return dir_; }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  uint16_t port() const { return port_; }
  std::string server() const { return "127.0.0.1:" + std::to_string(port_); }
  const std::string& key() const { return key_; }

  // Starts ssgmd (extra options appended); keeps the port of an earlier start.
  void StartSsgmd(const std::vector<std::string>& extra = {});
  void KillSsgmd(int signal);
  pid_t ssgmd_pid() const { return ssgmd_pid_; }

  // Starts a monitor for `node` reading `inventory` (file content).
  pid_t StartMonitor(const std::string& node, const std::string& inventory,
                     const std::vector<std::string>& extra = {});
  void StopMonitor(pid_t pid);

  // ssgm with --server and the given arguments (and environment entries).
  RunResult Ssgm(const std::vector<std::string>& args, const std::vector<std::string>& extra_env = {});
  // A status reply from ssgmd (through the client library), signed with
  // `client_key` when it is set (an ssgmd started with --client-key-file).
  rcuda::sched::Json Status();
  std::string client_key;
  // Sends one line to ssgmd (signed with `key` when not empty) and returns its reply.
  rcuda::sched::Json Ask(const std::string& line, const std::string& key = "");
  bool NodeLive(const std::string& node);

 private:
  std::string dir_;
  std::string key_;
  uint16_t port_ = 0;
  pid_t ssgmd_pid_ = -1;
  int ssgmd_starts_ = 0;
  std::vector<pid_t> monitors_;
};

}  // namespace sched_test
