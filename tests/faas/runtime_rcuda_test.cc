// The function's CUDA program on a "remote GPU" through rcuda: rcuda-fn
// gets a lease in the invocation (as rcuda-orchestrator sends it), its
// script runs tests/cuda/vector_add through rcuda-run, and rcuda-server
// (TEST backend: host memory and host kernels, test equipment, no GPU)
// checks the lease's token. With the sandbox too, where bwrap works.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include "protocol/lease_token.h"
#include "runtime_fixture.h"

using namespace rcuda::faas;
using namespace rcuda::faas::testing;
using nlohmann::json;

namespace {

// rcuda-server with the test backend, requiring lease tokens, on a free
// port of 127.0.0.1; stopped by its pid.
class LeasedServer {
 public:
  explicit LeasedServer(const std::string& dir) {
    key_ = "faas-runtime-test-key-0123456789";
    std::ofstream(dir + "/lease.key") << key_ << "\n";
    std::string port_file = dir + "/server.port";
    std::vector<std::string> args = {RCUDA_SERVER_PATH,  "--listen",      "127.0.0.1",       "--port",
                                     "0",                "--port-file",   port_file,         "--backend",
                                     "test",             "--test-kernels", RCUDA_TEST_KERNELS, "--auth-key-file",
                                     dir + "/lease.key", "--node-name",   "fn-node",         "--no-shared-memory"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    std::string log = dir + "/server.log";
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    int error = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    REQUIRE(error == 0);
    bool up = WaitFor(
        [&] {
          int status;
          if (waitpid(pid_, &status, WNOHANG) == pid_) {  // it died: stop waiting
            pid_ = -1;
            return true;
          }
          std::string text = ReadWhole(port_file);
          port_ = text.empty() ? 0 : std::atoi(text.c_str());
          return port_ > 0;
        },
        std::chrono::seconds(30));
    INFO(ReadWhole(log));
    REQUIRE(up);
    REQUIRE(pid_ > 0);
  }
  ~LeasedServer() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }

  // A token for GPU 0 of this server, valid for ten minutes.
  std::string Token() const {
    rcuda::LeaseClaims claims;
    claims.lease_id = "faas-test-lease";
    claims.grants.push_back({"fn-node", uint16_t(port_), 0, 1ull << 30});
    claims.expires_unix = time(nullptr) + 600;
    return rcuda::SignLeaseToken(claims, key_);
  }
  int port() const { return port_; }

 private:
  std::string key_;
  pid_t pid_ = -1;
  int port_ = 0;
};

std::string Functions() {
  return std::string(R"(
functions:
  aws:
  - lambda:
      name: vecadd
      environment: {Variables: {VECTOR_ADD: )") +
         RCUDA_VECTOR_ADD + R"(}}
      script: |
        "$RCUDA_RUN" "$VECTOR_ADD" > "$TMP_OUTPUT_DIR/vector_add.txt"
      gpu: {count: 1, memory: 1GiB}
      output: [{storage_provider: s3, path: outbox/gpu}]
)";
}

void RunVectorAdd(SandboxMode mode) {
  if (FunctionUser().uid && !(OthersCanRun(RCUDA_VECTOR_ADD) && OthersCanRun(std::string(RCUDA_BIN_DIR) + "/rcuda-run"))) {
    WARN("SKIPPED: the tests run as root, so functions run as nobody, who cannot reach the build's programs ("
         << RCUDA_VECTOR_ADD << "); build in a directory others may traverse");
    return;
  }
  FixtureOptions options;
  options.functions_yaml = Functions();
  options.sandbox = mode;
  options.sandbox_ro_binds = {std::filesystem::path(RCUDA_VECTOR_ADD).parent_path().string()};
  RuntimeFixture rt(options);
  if (mode == SandboxMode::kOn && !rt.sandbox_status().ok()) {
    WARN("SKIPPED: bwrap cannot run its sandbox here: " << rt.sandbox_status().message());
    return;
  }
  LeasedServer server(rt.dir());
  json lease = {{"SSGM_JOB_ID", "faas-test-lease"},
                {"RCUDA_DEVICE_COUNT", "1"},
                {"RCUDA_DEVICE_0", "127.0.0.1@" + std::to_string(server.port()) + ":0"},
                {"RCUDA_TOKEN", server.Token()}};
  json body = BodyJson(rt.Invoke("vecadd", json{{"rcuda", lease}}.dump()));
  INFO(body.dump(2));
  REQUIRE(body["status"] == "Succeeded");
  CHECK(body["sandboxed"] == (mode == SandboxMode::kOn));
  CHECK(rt.store().Objects("outbox").at("gpu/vector_add.txt").find("PASS") != std::string::npos);

  // Without the token the server refuses the session: the function fails.
  lease.erase("RCUDA_TOKEN");
  json refused = BodyJson(rt.Invoke("vecadd", json{{"rcuda", lease}}.dump()));
  INFO(refused.dump(2));
  CHECK(refused["status"] == "Failed");
  CHECK(refused["errorType"] == "Runtime.ExitError");
  CHECK(refused["logTail"].get<std::string>().find("requires a lease token") != std::string::npos);
}

}  // namespace

TEST_CASE("a CUDA program through rcuda-run on the leased server, with its token", "[rcuda]") {
  RunVectorAdd(SandboxMode::kOff);
}

TEST_CASE("the same inside the sandbox (network kept for rcuda)", "[rcuda][sandbox]") {
  RunVectorAdd(SandboxMode::kOn);
}
