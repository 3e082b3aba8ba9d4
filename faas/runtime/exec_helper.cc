#include "faas/runtime/exec_helper.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>

#include <spdlog/spdlog.h>

namespace rcuda::faas {
namespace {

// Moves a descriptor to 10 or above (close-on-exec), so that the helper's
// fixed descriptors 3 and 4 are never the source of a dup2 onto themselves.
int HighFd(int fd) {
  int high = fcntl(fd, F_DUPFD_CLOEXEC, 10);
  close(fd);
  return high;
}

constexpr int kLifelineFd = 3;
constexpr int kResultFd = 4;
constexpr size_t kMaxResultBytes = 4096;

}  // namespace

Status ExecHelper::Create(const std::string& helper_path, std::unique_ptr<ExecHelper>* helper) {
  if (access(helper_path.c_str(), X_OK) != 0) {
    return Status::InvalidValue("rcuda-fn-exec not found or not executable: " + helper_path);
  }
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return Status::IoError("pipe: " + std::string(std::strerror(errno)));
  int read_end = HighFd(fds[0]), write_end = HighFd(fds[1]);
  if (read_end < 0 || write_end < 0) return Status::IoError("fcntl: " + std::string(std::strerror(errno)));
  helper->reset(new ExecHelper(helper_path, read_end, write_end));
  return Status::Ok();
}

ExecHelper::~ExecHelper() {
  AbortAll();
  close(lifeline_read_);
}

void ExecHelper::AbortAll() {
  int fd = lifeline_write_.exchange(-1);
  if (fd >= 0) close(fd);
}

Status ExecHelper::Run(const ExecRequest& request, ExecResult* result) const {
  std::vector<std::string> args = {path_,
                                   "--timeout-ms", std::to_string(request.timeout_ms),
                                   "--grace-ms", std::to_string(request.grace_ms),
                                   "--log", request.log_path,
                                   "--chdir", request.work_dir,
                                   "--memory-bytes", std::to_string(request.memory_bytes),
                                   "--file-size-bytes", std::to_string(request.file_size_bytes),
                                   "--lifeline-fd", std::to_string(kLifelineFd),
                                   "--result-fd", std::to_string(kResultFd)};
  if (request.uid) {
    args.insert(args.end(), {"--uid", std::to_string(*request.uid), "--gid", std::to_string(request.gid)});
  }
  if (!request.cgroup_dir.empty()) args.insert(args.end(), {"--cgroup", request.cgroup_dir});
  args.push_back("--");
  args.insert(args.end(), request.command.begin(), request.command.end());
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (auto& e : request.environment) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return Status::IoError("pipe: " + std::string(std::strerror(errno)));
  int result_read = HighFd(fds[0]), result_write = HighFd(fds[1]);
  if (result_read < 0 || result_write < 0) return Status::IoError("fcntl: " + std::string(std::strerror(errno)));

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, lifeline_read_, kLifelineFd);
  posix_spawn_file_actions_adddup2(&actions, result_write, kResultFd);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  // The helper starts with every signal at its default and none blocked,
  // whatever this (multi-threaded) process does with them.
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attributes, &all);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  pid_t helper_pid = -1;
  int spawn_error = posix_spawn(&helper_pid, path_.c_str(), &actions, &attributes, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  close(result_write);
  if (spawn_error != 0) {
    close(result_read);
    return Status::IoError("cannot start " + path_ + ": " + std::strerror(spawn_error));
  }

  // Read the result until the helper closes it (it exits then). The helper
  // enforces the timeout; this wait is a safety net for the helper itself.
  std::string text;
  auto give_up = std::chrono::steady_clock::now() +
                 std::chrono::milliseconds(request.timeout_ms + request.grace_ms + 60'000);
  bool stuck = false;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(give_up - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      stuck = true;
      break;
    }
    pollfd pfd = {result_read, POLLIN, 0};
    int n = poll(&pfd, 1, int(std::min<int64_t>(left.count(), 60'000)));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) continue;
    char buffer[512];
    ssize_t got = read(result_read, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    if (text.size() + size_t(got) > kMaxResultBytes) {
      stuck = true;
      break;
    }
    text.append(buffer, size_t(got));
  }
  close(result_read);
  if (stuck) {
    spdlog::error("rcuda-fn-exec {} did not finish in time; killing it", helper_pid);
    kill(helper_pid, SIGKILL);
  }
  int status = 0;
  while (waitpid(helper_pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (stuck) return Status::IoError("rcuda-fn-exec did not finish");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Status::IoError("rcuda-fn-exec failed: " + (text.empty() ? std::string("no result") : text));
  }
  return ParseExecResult(text, result);
}

Status ParseExecResult(const std::string& text, ExecResult* result) {
  ExecResult r;
  bool have_pid = false;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    start = end + 1;
    size_t eq = line.find('=');
    if (eq == std::string::npos) return Status::Corruption("rcuda-fn-exec result: '" + line + "'");
    std::string name = line.substr(0, eq), value = line.substr(eq + 1);
    if (name == "error") return Status::IoError("rcuda-fn-exec: " + value);
    char* stop = nullptr;
    errno = 0;
    long long number = std::strtoll(value.c_str(), &stop, 10);
    if (errno != 0 || stop == value.c_str() || *stop != '\0') {
      return Status::Corruption("rcuda-fn-exec result: '" + line + "'");
    }
    if (name == "pid") r.pid = pid_t(number), have_pid = true;
    else if (name == "exit") r.exit_code = int(number);
    else if (name == "signal") r.signal = int(number);
    else if (name == "timed_out") r.timed_out = number != 0;
    else if (name == "aborted") r.aborted = number != 0;
    else if (name == "leftovers") r.leftovers = number;
    else if (name == "all_gone") r.all_gone = number != 0;
    else if (name == "max_rss_kb") r.max_rss_kb = number;
    else if (name == "oom_kills") r.oom_kills = number;
  }
  if (!have_pid) return Status::Corruption("rcuda-fn-exec result without a pid: '" + text + "'");
  *result = r;
  return Status::Ok();
}

}  // namespace rcuda::faas
