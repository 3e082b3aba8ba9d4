// A whole rcuda-fn in the test process: the function registry loaded from an
// FDL file, the runner over an in-memory object store (TEST EQUIPMENT), the
// helper, the sandbox as asked, and the HTTP server on a free port of
// 127.0.0.1; plus an HTTP client and the S3 events the tests send.
#pragma once

#include <fstream>
#include <memory>
#include <string>

#include <catch2/catch.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "faas/runtime/exec_helper.h"
#include "faas/runtime/function_registry.h"
#include "faas/runtime/invocation_runner.h"
#include "faas/runtime/invoke_server.h"
#include "faas/runtime/sandbox.h"
#include "runtime_memory_object_store.h"
#include "runtime_test_util.h"

namespace rcuda::faas::testing {

struct FixtureOptions {
  std::string functions_yaml;  // written to functions/fns.yaml
  SandboxMode sandbox = SandboxMode::kOff;
  std::vector<std::string> sandbox_ro_binds;
  int max_concurrency = 4;
  size_t max_body_bytes = 6 << 20;
  std::string invoke_key;
  std::string admin_key;
  bool state_dir = false;
  uint64_t max_input_bytes = 0;
};

class RuntimeFixture {
 public:
  explicit RuntimeFixture(const FixtureOptions& options) {
    std::string functions = dir_.path() + "/functions";
    std::filesystem::create_directories(functions);
    std::ofstream(functions + "/fns.yaml") << options.functions_yaml;
    std::vector<std::string> warnings;
    Status s = registry_.LoadDirectory(functions, &warnings);
    INFO(s.message());
    REQUIRE(s.ok());
    if (options.state_dir) REQUIRE(registry_.SetStateDirectory(dir_.path() + "/state", &warnings).ok());
    for (const char* bucket : {"inbox", "outbox", "outbox2"}) REQUIRE(store_.CreateBucket(bucket).ok());

    REQUIRE(ExecHelper::Create(RCUDA_FN_EXEC_PATH, &helper_).ok());
    work_root_ = dir_.path() + "/work";
    std::filesystem::create_directories(work_root_);
    chmod(work_root_.c_str(), 0711);
    RunAs user = FunctionUser();
    RunnerOptions runner;
    runner.work_root = work_root_;
    runner.rcuda_bin_dir = RCUDA_BIN_DIR;
    runner.run_as_uid = user.uid;
    runner.run_as_gid = user.gid;
    runner.kill_grace_ms = 500;
    runner.max_input_bytes = options.max_input_bytes;

    SandboxOptions sandbox;
    sandbox.mode = options.sandbox;
    sandbox.rcuda_dirs = {RCUDA_BIN_DIR, RCUDA_LIB_DIR};
    sandbox.ro_binds = options.sandbox_ro_binds;
    ExecRequest trial;
    std::filesystem::create_directories(dir_.path() + "/trial");
    if (user.uid) chown((dir_.path() + "/trial").c_str(), *user.uid, user.gid);
    trial.work_dir = dir_.path() + "/trial";
    trial.log_path = dir_.path() + "/trial.log";
    trial.timeout_ms = 20'000;
    trial.environment = {"PATH=/usr/bin:/bin"};
    trial.uid = user.uid;
    trial.gid = user.gid;
    sandbox_status_ = Sandbox::Create(sandbox, *helper_, trial, &sandbox_, &sandbox_why_);
    if (!sandbox_status_.ok()) return;  // the test decides (a sandbox that must be on and cannot)

    runner_ = std::make_unique<InvocationRunner>(runner, &store_, helper_.get(), sandbox_.get());
    ServerOptions server;
    server.port = 0;
    server.max_concurrency = options.max_concurrency;
    server.max_body_bytes = options.max_body_bytes;
    server.invoke_key = options.invoke_key;
    server.admin_key = options.admin_key;
    server_ = std::make_unique<InvokeServer>(server, &registry_, runner_.get());
    REQUIRE(server_->Start(&port_).ok());
  }

  ~RuntimeFixture() {
    if (server_) {
      helper_->AbortAll();
      server_->Stop();
    }
  }

  bool started() const { return server_ != nullptr; }
  int port() const { return port_; }
  const Status& sandbox_status() const { return sandbox_status_; }
  const std::string& sandbox_why() const { return sandbox_why_; }
  bool sandboxed() const { return sandbox_ && sandbox_->enabled(); }
  MemoryObjectStore& store() { return store_; }
  const std::string& dir() const { return dir_.path(); }
  const std::string& work_root() const { return work_root_; }
  InvokeServer& server() { return *server_; }

  httplib::Client Client() const {
    httplib::Client client("127.0.0.1", port_);
    client.set_read_timeout(120, 0);
    client.set_connection_timeout(5, 0);
    return client;
  }

  httplib::Result Invoke(const std::string& function, const std::string& body,
                         const std::string& type = "RequestResponse", httplib::Headers headers = {}) const {
    headers.emplace("X-Amz-Invocation-Type", type);
    return Client().Post(("/2015-03-31/functions/" + function + "/invocations").c_str(), headers, body,
                         "application/json");
  }

 private:
  TempDir dir_;
  std::string work_root_;
  MemoryObjectStore store_;
  FunctionRegistry registry_;
  std::unique_ptr<ExecHelper> helper_;
  std::unique_ptr<Sandbox> sandbox_;
  Status sandbox_status_;
  std::string sandbox_why_;
  std::unique_ptr<InvocationRunner> runner_;
  std::unique_ptr<InvokeServer> server_;
  int port_ = 0;
};

// An S3 ObjectCreated event for one object (the key as S3 sends it:
// URL-encoded), with the lease's variables when given.
inline std::string S3Event(const std::string& bucket, const std::string& encoded_key,
                           const nlohmann::json& lease = nullptr) {
  nlohmann::json event = {
      {"Records",
       {{{"eventVersion", "2.1"},
         {"eventSource", "aws:s3"},
         {"eventName", "ObjectCreated:Put"},
         {"s3", {{"bucket", {{"name", bucket}}}, {"object", {{"key", encoded_key}, {"size", 1}}}}}}}}};
  if (!lease.is_null()) event["rcuda"] = lease;
  return event.dump();
}

inline nlohmann::json BodyJson(const httplib::Result& result) {
  REQUIRE(result);
  nlohmann::json body = nlohmann::json::parse(result->body, nullptr, false);
  INFO(result->body);
  REQUIRE_FALSE(body.is_discarded());
  return body;
}

}  // namespace rcuda::faas::testing
