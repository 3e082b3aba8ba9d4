// rcuda-fn-exec through ExecHelper: exit codes, timeouts that leave nothing
// behind (checked by pid and process group), processes left running or
// escaped into sessions of their own, the memory limit, and the lifeline.
#include <sys/stat.h>

#include <thread>

#include <catch2/catch.hpp>

#include "faas/runtime/exec_helper.h"
#include "faas/runtime/memory_cgroup.h"
#include "runtime_test_util.h"

using namespace rcuda::faas;
using namespace rcuda::faas::testing;

namespace {

std::unique_ptr<ExecHelper> Helper() {
  std::unique_ptr<ExecHelper> helper;
  rcuda::Status s = ExecHelper::Create(RCUDA_FN_EXEC_PATH, &helper);
  REQUIRE(s.ok());
  return helper;
}

ExecRequest Bash(const TempDir& dir, const std::string& script, int64_t timeout_ms = 20'000) {
  ExecRequest request;
  request.command = {"/bin/bash", "-c", script};
  request.environment = {"PATH=/usr/bin:/bin"};
  request.log_path = dir.path() + "/log";
  request.work_dir = dir.path();
  request.timeout_ms = timeout_ms;
  request.grace_ms = 500;
  RunAs user = FunctionUser();
  request.uid = user.uid;
  request.gid = user.gid;
  return request;
}

}  // namespace

TEST_CASE("a command's exit status, signal and log", "[exec]") {
  TempDir dir;
  auto helper = Helper();
  ExecResult result;
  REQUIRE(helper->Run(Bash(dir, "echo out; echo err >&2; exit 7"), &result).ok());
  CHECK(result.exit_code == 7);
  CHECK(result.signal == 0);
  CHECK_FALSE(result.timed_out);
  CHECK(result.all_gone);
  std::string log = ReadWhole(dir.path() + "/log");
  CHECK(log.find("out\n") != std::string::npos);
  CHECK(log.find("err\n") != std::string::npos);

  REQUIRE(helper->Run(Bash(dir, "kill -SEGV $$"), &result).ok());
  CHECK(result.exit_code == -1);
  CHECK(result.signal == SIGSEGV);

  REQUIRE(helper->Run(Bash(dir, "exit 0"), &result).ok());
  CHECK(result.exit_code == 0);
  CHECK(result.pid > 0);
}

TEST_CASE("the command runs as the function user with no new privileges", "[exec]") {
  TempDir dir;
  auto helper = Helper();
  ExecResult result;
  REQUIRE(helper->Run(Bash(dir, "echo uid=$(id -u); grep NoNewPrivs /proc/self/status"), &result).ok());
  std::string log = ReadWhole(dir.path() + "/log");
  RunAs user = FunctionUser();
  CHECK(LoggedNumber(log, "uid") == long(user.uid ? *user.uid : geteuid()));
  CHECK(log.find("NoNewPrivs:\t1") != std::string::npos);
}

TEST_CASE("a timeout kills the whole group, and escaped sessions too", "[exec]") {
  TempDir dir;
  auto helper = Helper();
  ExecResult result;
  // A background child in the group, one that left for a session of its
  // own, and a shell that ignores SIGTERM: all must be gone afterwards.
  auto start = std::chrono::steady_clock::now();
  REQUIRE(helper->Run(Bash(dir,
                           "trap '' TERM; sleep 1000 & echo child=$!; setsid sleep 1000 & echo escapee=$!; "
                           "echo group=$$; wait",
                           300),
                      &result)
              .ok());
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(result.timed_out);
  CHECK(result.signal == SIGKILL);  // it ignored SIGTERM: killed after the grace
  CHECK(took < std::chrono::seconds(10));
  std::string log = ReadWhole(dir.path() + "/log");
  INFO(log);
  auto child = LoggedNumber(log, "child"), escapee = LoggedNumber(log, "escapee"), group = LoggedNumber(log, "group");
  REQUIRE(child);
  REQUIRE(escapee);
  REQUIRE(group);
  CHECK(*group == result.pid);
  // The helper returns only after reaping everything: no wait needed here.
  CHECK_FALSE(GroupExists(result.pid));
  CHECK_FALSE(ProcessExists(pid_t(*child)));
  CHECK_FALSE(ProcessExists(pid_t(*escapee)));
  CHECK(result.all_gone);
  CHECK(result.leftovers >= 1);  // the escapee at least was found as a child
}

TEST_CASE("processes left running after a clean exit are killed", "[exec]") {
  TempDir dir;
  auto helper = Helper();
  ExecResult result;
  REQUIRE(helper->Run(Bash(dir, "sleep 1000 & echo child=$!; setsid sleep 1000 & echo escapee=$!; exit 0"), &result)
              .ok());
  CHECK(result.exit_code == 0);
  CHECK_FALSE(result.timed_out);
  std::string log = ReadWhole(dir.path() + "/log");
  auto child = LoggedNumber(log, "child"), escapee = LoggedNumber(log, "escapee");
  REQUIRE(child);
  REQUIRE(escapee);
  CHECK_FALSE(ProcessExists(pid_t(*child)));
  CHECK_FALSE(ProcessExists(pid_t(*escapee)));
  CHECK_FALSE(GroupExists(result.pid));
  CHECK(result.leftovers >= 2);
}

TEST_CASE("RLIMIT_AS stops a command that allocates beyond its memory", "[exec]") {
  TempDir dir;
  auto helper = Helper();
  // dd allocates its buffer (200 MiB) before it reads; it reads one byte.
  const std::string hog = "dd if=/dev/zero of=/dev/null bs=200M iflag=count_bytes count=1 && echo done=1";
  ExecRequest small = Bash(dir, hog);
  small.memory_bytes = 128ull << 20;
  ExecResult result;
  REQUIRE(helper->Run(small, &result).ok());
  std::string log = ReadWhole(dir.path() + "/log");
  INFO(log);
  CHECK(result.exit_code != 0);
  CHECK_FALSE(LoggedNumber(log, "done"));
  CHECK(log.find("memory exhausted") != std::string::npos);

  // The same with room to spare succeeds: the limit, not the script, failed it.
  ExecRequest large = Bash(dir, hog);
  large.memory_bytes = 1024ull << 20;
  REQUIRE(helper->Run(large, &result).ok());
  log = ReadWhole(dir.path() + "/log");
  CHECK(result.exit_code == 0);
  CHECK(LoggedNumber(log, "done") == 1L);
}

TEST_CASE("a memory cgroup's OOM kill is reported", "[exec][cgroup]") {
  std::string parent = "/sys/fs/cgroup/memory";
  std::string why;
  if (!MemoryCgroup::Usable(parent, &why)) {
    WARN("SKIPPED: no writable memory cgroup here (" << why << ")");
    return;
  }
  TempDir dir;
  auto helper = Helper();
  // dd fills a 160 MiB buffer: resident memory, beyond the cgroup's 128 MiB.
  ExecRequest request = Bash(dir, "dd if=/dev/zero of=/dev/null bs=160M count=1 && echo done=1");
  request.memory_bytes = 128ull << 20;
  request.cgroup_dir = parent + "/rcuda-fn-test-" + std::to_string(getpid());
  ExecResult result;
  REQUIRE(helper->Run(request, &result).ok());
  INFO(ReadWhole(dir.path() + "/log"));
  CHECK(result.oom_kills >= 1);
  CHECK(result.exit_code != 0);
  CHECK_FALSE(LoggedNumber(ReadWhole(dir.path() + "/log"), "done"));
  struct stat st;
  CHECK(stat(request.cgroup_dir.c_str(), &st) != 0);  // removed
}

TEST_CASE("AbortAll ends a running command at once", "[exec]") {
  TempDir dir;
  auto helper = Helper();
  ExecResult result;
  rcuda::Status status;
  std::thread runner([&] { status = helper->Run(Bash(dir, "echo group=$$; sleep 1000"), &result); });
  // Wait until the command has started (its log says so), then abort.
  REQUIRE(WaitFor([&] { return LoggedNumber(ReadWhole(dir.path() + "/log"), "group").has_value(); },
                  std::chrono::seconds(20)));
  helper->AbortAll();
  runner.join();
  REQUIRE(status.ok());
  CHECK(result.aborted);
  CHECK_FALSE(GroupExists(result.pid));
}

TEST_CASE("the helper's result is parsed strictly", "[exec]") {
  ExecResult result;
  CHECK(ParseExecResult("pid=12\nexit=0\nsignal=0\n", &result).ok());
  CHECK(result.pid == 12);
  CHECK_FALSE(ParseExecResult("exit=0\n", &result).ok());
  CHECK_FALSE(ParseExecResult("pid=x\n", &result).ok());
  CHECK_FALSE(ParseExecResult("garbage", &result).ok());
  CHECK_FALSE(ParseExecResult("error=cannot fork\n", &result).ok());
}
