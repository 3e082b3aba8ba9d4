// rcuda-fn-exec: runs one invocation's command for rcuda-fn and makes sure
// that nothing it started outlives it.
//
//   rcuda-fn-exec --timeout-ms N --log FILE --result-fd FD [options] -- command [args...]
//
// It is a child subreaper (PR_SET_CHILD_SUBREAPER), so every process the
// command leaves behind, even one that started a session of its own,
// becomes its child. The command runs in a new session (its own process
// group) with stdin from /dev/null and stdout and stderr into the log, as
// --uid/--gid when given, with no new privileges, limits (RLIMIT_AS,
// RLIMIT_FSIZE, no core files) or in a memory cgroup. At the timeout the
// group gets SIGTERM, and SIGKILL --grace-ms later. Once the command's first
// process has ended (or been killed), every process left is killed and
// reaped: the group, then each child found in /proc, until none is left.
// Then one result line goes to --result-fd and rcuda-fn-exec exits 0.
//
// If --lifeline-fd reaches end of file (rcuda-fn died) or rcuda-fn-exec gets
// SIGTERM, SIGINT or SIGHUP, everything is killed the same way at once.
//
// Single-threaded by design: it forks and calls waitpid(-1) freely.
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "faas/runtime/memory_cgroup.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  int64_t timeout_ms = -1;
  int64_t grace_ms = 2000;
  std::string log_path;
  std::string chdir_path = ".";
  uint64_t memory_bytes = 0;
  uint64_t file_size_bytes = 0;
  long uid = -1;
  long gid = -1;
  std::string cgroup_dir;
  int lifeline_fd = -1;
  int result_fd = -1;
  std::vector<char*> command;
};

[[noreturn]] void Usage(const char* message) {
  std::fprintf(stderr, "rcuda-fn-exec: %s\n", message);
  std::fprintf(stderr,
               "usage: rcuda-fn-exec --timeout-ms N --log FILE --result-fd FD [--grace-ms N] [--chdir DIR]\n"
               "         [--memory-bytes N] [--file-size-bytes N] [--uid N --gid N] [--cgroup DIR]\n"
               "         [--lifeline-fd FD] -- command [args...]\n");
  std::exit(2);
}

int64_t ParseInt(const char* text, const char* option) {
  char* end = nullptr;
  errno = 0;
  long long value = std::strtoll(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value < 0) Usage((std::string(option) + " needs a number").c_str());
  return value;
}

Options ParseOptions(int argc, char** argv) {
  Options o;
  int i = 1;
  for (; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") {
      ++i;
      break;
    }
    if (i + 1 >= argc) Usage(("missing value for " + a).c_str());
    const char* v = argv[++i];
    if (a == "--timeout-ms") o.timeout_ms = ParseInt(v, "--timeout-ms");
    else if (a == "--grace-ms") o.grace_ms = ParseInt(v, "--grace-ms");
    else if (a == "--log") o.log_path = v;
    else if (a == "--chdir") o.chdir_path = v;
    else if (a == "--memory-bytes") o.memory_bytes = ParseInt(v, "--memory-bytes");
    else if (a == "--file-size-bytes") o.file_size_bytes = ParseInt(v, "--file-size-bytes");
    else if (a == "--uid") o.uid = ParseInt(v, "--uid");
    else if (a == "--gid") o.gid = ParseInt(v, "--gid");
    else if (a == "--cgroup") o.cgroup_dir = v;
    else if (a == "--lifeline-fd") o.lifeline_fd = int(ParseInt(v, "--lifeline-fd"));
    else if (a == "--result-fd") o.result_fd = int(ParseInt(v, "--result-fd"));
    else Usage(("unknown option " + a).c_str());
  }
  for (; i < argc; ++i) o.command.push_back(argv[i]);
  o.command.push_back(nullptr);
  if (o.command.size() < 2) Usage("no command");
  if (o.timeout_ms <= 0) Usage("--timeout-ms is required");
  if (o.log_path.empty()) Usage("--log is required");
  if (o.result_fd < 0) Usage("--result-fd is required");
  if ((o.uid < 0) != (o.gid < 0)) Usage("--uid and --gid go together");
  return o;
}

// Writes a message to fd 2 with async-signal-safe calls only (used between
// fork and exec).
[[noreturn]] void ChildFail(const char* what) {
  const char* reason = std::strerror(errno);
  const char* parts[] = {"rcuda-fn-exec: ", what, ": ", reason, "\n"};
  for (const char* part : parts) {
    ssize_t ignored = write(2, part, std::strlen(part));
    (void)ignored;
  }
  _exit(127);
}

// The command's process: its own session, the log, the limits, the user.
[[noreturn]] void RunChild(const Options& o, int log_fd, const rcuda::faas::MemoryCgroup* cgroup) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  setsid();
  if (cgroup && !cgroup->AddSelf()) ChildFail("joining the memory cgroup");
  int null_fd = open("/dev/null", O_RDONLY);
  if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(log_fd, 1) < 0 || dup2(log_fd, 2) < 0) ChildFail("redirecting");
  if (chdir(o.chdir_path.c_str()) != 0) ChildFail("chdir");
  struct rlimit no_core = {0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  if (o.memory_bytes > 0 && !cgroup) {
    struct rlimit as = {o.memory_bytes, o.memory_bytes};
    if (setrlimit(RLIMIT_AS, &as) != 0) ChildFail("setrlimit(RLIMIT_AS)");
  }
  if (o.file_size_bytes > 0) {
    struct rlimit fsize = {o.file_size_bytes, o.file_size_bytes};
    if (setrlimit(RLIMIT_FSIZE, &fsize) != 0) ChildFail("setrlimit(RLIMIT_FSIZE)");
  }
  if (o.uid >= 0) {
    gid_t gid = gid_t(o.gid);
    if (setgroups(1, &gid) != 0 || setgid(gid) != 0 || setuid(uid_t(o.uid)) != 0) ChildFail("changing user");
    if (getuid() != uid_t(o.uid) || geteuid() != uid_t(o.uid)) ChildFail("changing user (not changed)");
  }
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  // Cleared by the change of user above, so set after it.
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  execvp(o.command[0], o.command.data());
  ChildFail(o.command[0]);
}

struct Process {
  pid_t pid;
  pid_t ppid;
  pid_t pgid;
  bool zombie;  // already dead, waiting to be reaped
};

// The processes that are this process's children or in process group
// `group`, from /proc (what the command left behind is re-parented here, as
// this process is a subreaper).
std::vector<Process> ListProcesses(pid_t group) {
  std::vector<Process> found;
  pid_t self = getpid();
  DIR* proc = opendir("/proc");
  if (!proc) return found;
  while (dirent* entry = readdir(proc)) {
    char* end = nullptr;
    long pid = std::strtol(entry->d_name, &end, 10);
    if (pid <= 0 || *end != '\0') continue;
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    char buffer[512];
    ssize_t n = read(fd, buffer, sizeof buffer - 1);
    close(fd);
    if (n <= 0) continue;
    buffer[n] = '\0';
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
    char* close_paren = std::strrchr(buffer, ')');
    if (!close_paren) continue;
    char state = 0;
    long ppid = 0, pgid = 0;
    if (std::sscanf(close_paren + 1, " %c %ld %ld", &state, &ppid, &pgid) != 3) continue;
    if (ppid == self || pgid == group) found.push_back({pid_t(pid), pid_t(ppid), pid_t(pgid), state == 'Z'});
  }
  closedir(proc);
  return found;
}

class Supervisor {
 public:
  Supervisor(const Options& options, int signal_fd) : o_(options), signal_fd_(signal_fd) {}

  void Run(pid_t child) {
    child_ = child;
    auto start = Clock::now();
    auto deadline = start + std::chrono::milliseconds(o_.timeout_ms);
    Clock::time_point kill_at = Clock::time_point::max();
    while (!child_done_ && !aborted_) {
      auto now = Clock::now();
      if (!timed_out_ && now >= deadline) {
        timed_out_ = true;
        kill(-child_, SIGTERM);
        kill(child_, SIGTERM);  // in case it has not made its session yet
        kill_at = now + std::chrono::milliseconds(o_.grace_ms);
      }
      if (now >= kill_at) {
        kill(-child_, SIGKILL);
        kill(child_, SIGKILL);
        kill_at = Clock::time_point::max();
      }
      auto next = std::min(timed_out_ ? kill_at : deadline, kill_at);
      Wait(next);
    }
    KillEverything();
  }

  int64_t timed_out() const { return timed_out_; }
  int status() const { return status_; }
  bool child_done() const { return child_done_; }
  bool aborted() const { return aborted_; }
  size_t leftovers() const { return leftovers_.size(); }
  bool all_gone() const { return all_gone_; }

 private:
  // Waits for a signal, the lifeline's end or `until`, then handles them.
  void Wait(Clock::time_point until) {
    int timeout = -1;
    if (until != Clock::time_point::max()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
      timeout = int(std::max<int64_t>(0, std::min<int64_t>(left + 1, 60'000)));
    }
    pollfd fds[2] = {{signal_fd_, POLLIN, 0}, {o_.lifeline_fd, POLLIN, 0}};
    int n = poll(fds, o_.lifeline_fd >= 0 ? 2 : 1, timeout);
    if (n > 0 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      char byte;
      if (read(o_.lifeline_fd, &byte, 1) <= 0) aborted_ = true;  // rcuda-fn is gone
    }
    if (n > 0 && (fds[0].revents & POLLIN)) {
      signalfd_siginfo info;
      while (read(signal_fd_, &info, sizeof info) == ssize_t(sizeof info)) {
        if (info.ssi_signo != SIGCHLD) aborted_ = true;
      }
    }
    Reap();
  }

  void Reap() {
    int status = 0;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
      if (pid == child_) {
        child_done_ = true;
        status_ = status;
      }
    }
    if (pid < 0 && errno == ECHILD) no_children_ = true;
  }

  // Kills the group and every child until nothing is left, for at most 10 s.
  void KillEverything() {
    auto give_up = Clock::now() + std::chrono::seconds(10);
    while (Clock::now() < give_up) {
      no_children_ = false;
      // Count what is alive before killing it (killed, it is a zombie).
      for (const Process& process : ListProcesses(child_)) {
        if (process.zombie) continue;  // Reap() takes it
        if (process.pid != child_) leftovers_.insert(process.pid);
        kill(process.pid, SIGKILL);
      }
      bool group_left = kill(-child_, SIGKILL) == 0;
      Reap();
      if (no_children_ && !group_left && kill(-child_, 0) != 0) {
        all_gone_ = true;
        return;
      }
      Wait(Clock::now() + std::chrono::milliseconds(50));
    }
  }

  const Options& o_;
  int signal_fd_;
  pid_t child_ = -1;
  bool child_done_ = false;
  bool no_children_ = false;
  bool aborted_ = false;
  bool timed_out_ = false;
  bool all_gone_ = false;
  int status_ = 0;
  std::set<pid_t> leftovers_;
};

void WriteResult(int fd, const std::string& line) {
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = write(fd, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += size_t(n);
  }
}

std::string Field(const char* name, int64_t value) { return std::string(name) + "=" + std::to_string(value) + "\n"; }

}  // namespace

int main(int argc, char** argv) {
  Options o = ParseOptions(argc, argv);
  sigset_t mask;
  sigemptyset(&mask);
  for (int sig : {SIGCHLD, SIGTERM, SIGINT, SIGHUP}) sigaddset(&mask, sig);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  int signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signal_fd < 0 || prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
    WriteResult(o.result_fd, "error=cannot set up signal handling or subreaper: " + std::string(std::strerror(errno)) + "\n");
    return 1;
  }
  fcntl(o.result_fd, F_SETFD, FD_CLOEXEC);
  if (o.lifeline_fd >= 0) fcntl(o.lifeline_fd, F_SETFD, FD_CLOEXEC);
  int log_fd = open(o.log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (log_fd < 0) {
    WriteResult(o.result_fd, "error=cannot create the log: " + std::string(std::strerror(errno)) + "\n");
    return 1;
  }
  std::unique_ptr<rcuda::faas::MemoryCgroup> cgroup;
  if (!o.cgroup_dir.empty()) {
    std::string error;
    cgroup = rcuda::faas::MemoryCgroup::Create(o.cgroup_dir, o.memory_bytes, &error);
    if (!cgroup) {
      WriteResult(o.result_fd, "error=" + error + "\n");
      return 1;
    }
  }
  pid_t child = fork();
  if (child < 0) {
    WriteResult(o.result_fd, "error=fork: " + std::string(std::strerror(errno)) + "\n");
    return 1;
  }
  if (child == 0) RunChild(o, log_fd, cgroup.get());
  close(log_fd);

  Supervisor supervisor(o, signal_fd);
  supervisor.Run(child);
  int status = supervisor.status();
  struct rusage usage = {};
  getrusage(RUSAGE_CHILDREN, &usage);
  std::string result = Field("pid", child);
  result += Field("exit", supervisor.child_done() && WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  result += Field("signal", supervisor.child_done() && WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  result += Field("timed_out", supervisor.timed_out());
  result += Field("aborted", supervisor.aborted());
  result += Field("leftovers", int64_t(supervisor.leftovers()));
  result += Field("all_gone", supervisor.all_gone());
  result += Field("max_rss_kb", usage.ru_maxrss);
  if (cgroup) {
    result += Field("oom_kills", cgroup->OomKills());
    cgroup.reset();  // removes the cgroup, now empty
  }
  WriteResult(o.result_fd, result);
  return 0;
}
