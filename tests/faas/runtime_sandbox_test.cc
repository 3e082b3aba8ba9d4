// rcuda-fn's bwrap sandbox: what a function sees and may write, and that
// nothing of it outlives the invocation (checked by its PID namespace).
// Skipped, saying why, where bwrap cannot create its namespaces.
#include <dirent.h>
#include <unistd.h>

#include "runtime_fixture.h"

using namespace rcuda::faas;
using namespace rcuda::faas::testing;
using nlohmann::json;

namespace {

const char* kFunctions = R"FDL(
functions:
  aws:
  - lambda:
      name: inside
      script: |
        echo uid=$(id -u)
        readlink /proc/self/ns/pid > "$TMP_OUTPUT_DIR/ns.txt"
        test -r /etc/passwd && echo etc=1
        test -e "$HOME/../../../functions/fns.yaml" && echo functions=1
        test -e "$HOME/../log" && echo log=1
        test -e /root && echo root=1
        test -e /home && echo home=1
        test -e /var/lib && echo varlib=1
        cat /etc/shadow > /dev/null 2>&1 && echo shadow=1
        touch /usr/rcuda-fn-probe 2> /dev/null && echo usr=1
        echo private > /tmp/rcuda-fn-sandbox-probe && echo tmp=1
        test -x "$RCUDA_RUN" && echo rcuda_run=1
        echo "input=$(cat "$INPUT_FILE_PATH")"
        echo from-sandbox > "$TMP_OUTPUT_DIR/out.txt"
        sleep 1000 &
      input: [{storage_provider: s3, path: inbox}]
      output: [{storage_provider: s3, path: outbox/sandbox}]
  - lambda:
      name: stuck
      timeout: 1
      script: |
        readlink /proc/self/ns/pid
        setsid sleep 1000 &
        sleep 1000
)FDL";

// Processes of the host whose PID namespace is `ns` ("pid:[4026532...]").
int ProcessesInNamespace(const std::string& ns) {
  int count = 0;
  DIR* proc = opendir("/proc");
  if (!proc) return -1;
  while (dirent* entry = readdir(proc)) {
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
    char target[128];
    std::string link = std::string("/proc/") + entry->d_name + "/ns/pid";
    ssize_t n = readlink(link.c_str(), target, sizeof target - 1);
    if (n > 0 && std::string(target, size_t(n)) == ns) ++count;
  }
  closedir(proc);
  return count;
}

bool SandboxUsable(RuntimeFixture& rt) {
  if (rt.sandbox_status().ok()) return true;
  WARN("SKIPPED: bwrap cannot run its sandbox here: " << rt.sandbox_status().message());
  return false;
}

}  // namespace

TEST_CASE("inside the sandbox: the system read-only, the task writable, nothing else", "[sandbox]") {
  FixtureOptions options;
  options.functions_yaml = kFunctions;
  options.sandbox = SandboxMode::kOn;
  RuntimeFixture rt(options);
  if (!SandboxUsable(rt)) return;
  REQUIRE(rt.sandboxed());
  REQUIRE(rt.store().Put("inbox", "data.txt", "secret input").ok());
  json body = BodyJson(rt.Invoke("inside", S3Event("inbox", "data.txt")));
  std::string log = body["logTail"];
  INFO(log);
  REQUIRE(body["status"] == "Succeeded");
  CHECK(body["sandboxed"] == true);
  RunAs user = FunctionUser();
  CHECK(LoggedNumber(log, "uid") == long(user.uid ? *user.uid : geteuid()));
  CHECK(LoggedNumber(log, "etc") == 1L);
  CHECK(LoggedNumber(log, "rcuda_run") == 1L);
  CHECK(LoggedNumber(log, "tmp") == 1L);
  CHECK(log.find("input=secret input") != std::string::npos);
  for (const char* hidden : {"functions", "log", "root", "home", "varlib", "shadow", "usr"}) {
    INFO(hidden);
    CHECK_FALSE(LoggedNumber(log, hidden));
  }
  // Its /tmp was its own.
  CHECK_FALSE(std::filesystem::exists("/tmp/rcuda-fn-sandbox-probe"));
  auto out = rt.store().Objects("outbox");
  CHECK(out.at("sandbox/out.txt") == "from-sandbox\n");
  // The sleep it left behind went with its PID namespace.
  std::string ns = out.at("sandbox/ns.txt");
  while (!ns.empty() && ns.back() == '\n') ns.pop_back();
  REQUIRE(ns.rfind("pid:[", 0) == 0);
  char own[128];
  ssize_t n = readlink("/proc/self/ns/pid", own, sizeof own - 1);
  REQUIRE(n > 0);
  CHECK(ns != std::string(own, size_t(n)));  // a namespace of its own
  CHECK(ProcessesInNamespace(ns) == 0);
}

TEST_CASE("a sandboxed function that times out leaves nothing behind", "[sandbox]") {
  FixtureOptions options;
  options.functions_yaml = kFunctions;
  options.sandbox = SandboxMode::kOn;
  RuntimeFixture rt(options);
  if (!SandboxUsable(rt)) return;
  json body = BodyJson(rt.Invoke("stuck", "{}"));
  std::string log = body["logTail"];
  INFO(log);
  CHECK(body["errorType"] == "Sandbox.Timedout");
  size_t at = log.find("pid:[");
  REQUIRE(at != std::string::npos);
  std::string ns = log.substr(at, log.find(']', at) + 1 - at);
  CHECK(ProcessesInNamespace(ns) == 0);
  CHECK_FALSE(GroupExists(pid_t(body["processGroup"].get<int>())));
}

TEST_CASE("sandbox auto: used when it works, else off with the reason", "[sandbox]") {
  FixtureOptions options;
  options.functions_yaml = kFunctions;
  options.sandbox = SandboxMode::kAuto;
  RuntimeFixture rt(options);
  REQUIRE(rt.sandbox_status().ok());  // auto never refuses to start
  FixtureOptions on = options;
  on.sandbox = SandboxMode::kOn;
  RuntimeFixture rt_on(on);
  CHECK(rt.sandboxed() == rt_on.sandbox_status().ok());
  if (!rt.sandboxed()) CHECK_FALSE(rt.sandbox_why().empty());

  // A broken bwrap (a path that does not exist) turns auto off, and on fails.
  // Covered by Sandbox::Create directly: the fixture always uses "bwrap".
  std::unique_ptr<ExecHelper> helper;
  REQUIRE(ExecHelper::Create(RCUDA_FN_EXEC_PATH, &helper).ok());
  TempDir dir;
  ExecRequest trial;
  trial.work_dir = dir.path();
  trial.log_path = dir.path() + "/trial.log";
  trial.timeout_ms = 10'000;
  trial.environment = {"PATH=/usr/bin:/bin"};
  SandboxOptions broken;
  broken.bwrap = "/nonexistent/bwrap";
  broken.mode = SandboxMode::kAuto;
  std::unique_ptr<Sandbox> sandbox;
  std::string why;
  REQUIRE(Sandbox::Create(broken, *helper, trial, &sandbox, &why).ok());
  CHECK_FALSE(sandbox->enabled());
  CHECK(why.find("/nonexistent/bwrap") != std::string::npos);
  broken.mode = SandboxMode::kOn;
  CHECK_FALSE(Sandbox::Create(broken, *helper, trial, &sandbox, &why).ok());
}
