// rcuda-fn: the function runtime. Serves AWS Lambda's Invoke API for the
// functions of rcuda's definitions (SCAR's FDL), running each invocation's
// script, whose CUDA program reaches its leased GPUs through rcuda-run.
// docs/faas-runtime.md, "Function runtime (rcuda-fn)".
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "common/log.h"
#include "faas/function/names.h"
#include "faas/runtime/exec_helper.h"
#include "faas/runtime/function_registry.h"
#include "faas/runtime/invocation_runner.h"
#include "faas/runtime/invoke_server.h"
#include "faas/runtime/memory_cgroup.h"
#include "faas/runtime/sandbox.h"
#include "faas/storage/s3_config.h"
#include "faas/storage/s3_object_store.h"

namespace fs = std::filesystem;
using namespace rcuda;
using namespace rcuda::faas;

namespace {

struct Flags {
  std::string listen = "127.0.0.1";
  int port = 9000;
  std::string port_file;
  std::string functions_dir;
  std::string state_dir;
  std::string work_root = "/var/lib/rcuda-fn/work";
  int max_concurrency = 4;
  std::string max_body_size = "6MiB";
  std::string max_input_size;
  std::string sandbox = "auto";
  std::string bwrap = "bwrap";
  std::vector<std::string> sandbox_ro_binds;
  std::string run_as;
  std::string cgroup_parent;
  int kill_grace_ms = 2000;
  std::string rcuda_bin;
  std::string exec_helper;
  std::string invoke_key_file;
  std::string admin_key_file;
  std::string log_level = "info";
  bool keep_work_dirs = false;
  bool check_config = false;
};

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "rcuda-fn: %s\n", message.c_str());
  std::exit(1);
}

std::string ReadKey(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Die("cannot read " + path);
  std::string key((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!key.empty() && std::isspace(static_cast<unsigned char>(key.back()))) key.pop_back();
  if (key.size() < 16) Die(path + ": a key of at least 16 bytes is needed");
  return key;
}

uint64_t Size(const std::string& text, const char* option) {
  uint64_t bytes = 0;
  Status s = ParseSizeWithUnit(text, &bytes);
  if (!s.ok()) Die(std::string(option) + ": " + s.message());
  return bytes;
}

std::string SelfDir() { return fs::read_symlink("/proc/self/exe").parent_path().string(); }

// Removes what a previous rcuda-fn left in the work root (it may have been
// killed): only names it makes itself.
void CleanWorkRoot(const std::string& root) {
  static const std::regex kRequestId("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\\.sandbox-trial");
  std::error_code ec;
  for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    if (std::regex_match(it->path().filename().string(), kRequestId)) fs::remove_all(it->path(), ec);
  }
}

void Configure(const Flags& flags, RunnerOptions* runner, SandboxOptions* sandbox) {
  runner->work_root = fs::absolute(flags.work_root).string();
  runner->rcuda_bin_dir = flags.rcuda_bin.empty() ? SelfDir() : fs::absolute(flags.rcuda_bin).string();
  if (access((runner->rcuda_bin_dir + "/rcuda-run").c_str(), X_OK) != 0) {
    Die("no rcuda-run in " + runner->rcuda_bin_dir + " (use --rcuda-bin)");
  }
  runner->kill_grace_ms = flags.kill_grace_ms;
  runner->keep_work_dirs = flags.keep_work_dirs;
  if (!flags.max_input_size.empty()) runner->max_input_bytes = Size(flags.max_input_size, "--max-input-size");
  std::string user = flags.run_as;
  if (geteuid() == 0 && user.empty()) user = "nobody";  // functions never run as root
  if (!user.empty()) {
    if (geteuid() != 0) Die("--run-as needs rcuda-fn to run as root");
    passwd* entry = getpwnam(user.c_str());
    if (!entry) Die("--run-as: no user " + user);
    if (entry->pw_uid == 0) Die("--run-as: functions do not run as root");
    runner->run_as_uid = entry->pw_uid;
    runner->run_as_gid = entry->pw_gid;
  }
  if (!flags.cgroup_parent.empty()) {
    std::string why;
    if (!MemoryCgroup::Usable(flags.cgroup_parent, &why)) Die("--cgroup-parent: " + why);
    runner->cgroup_parent = flags.cgroup_parent;
  }
  Status s = ParseSandboxMode(flags.sandbox, &sandbox->mode);
  if (!s.ok()) Die("--sandbox: " + s.message());
  sandbox->bwrap = flags.bwrap;
  sandbox->ro_binds = flags.sandbox_ro_binds;
  fs::path lib = fs::path(runner->rcuda_bin_dir).parent_path() / "lib";
  sandbox->rcuda_dirs = {runner->rcuda_bin_dir};
  if (fs::is_directory(lib)) sandbox->rcuda_dirs.push_back(lib.string());
}

// Tries the sandbox as invocations will run (same helper, same user) and
// says what functions will run in.
std::unique_ptr<Sandbox> StartSandbox(const RunnerOptions& runner_options, const SandboxOptions& sandbox_options,
                                      const ExecHelper& helper) {
  std::error_code ec;
  ExecRequest trial;
  trial.work_dir = runner_options.work_root + "/.sandbox-trial";
  fs::create_directories(trial.work_dir, ec);
  if (runner_options.run_as_uid) {
    if (chown(trial.work_dir.c_str(), *runner_options.run_as_uid, runner_options.run_as_gid) != 0) {
      Die("chown " + trial.work_dir + " failed");
    }
  }
  trial.log_path = trial.work_dir + ".log";
  trial.timeout_ms = 20'000;
  trial.environment = {"PATH=/usr/bin:/bin"};
  trial.uid = runner_options.run_as_uid;
  trial.gid = runner_options.run_as_gid;
  std::unique_ptr<Sandbox> sandbox;
  std::string why;
  Status s = Sandbox::Create(sandbox_options, helper, trial, &sandbox, &why);
  fs::remove_all(trial.work_dir, ec);
  fs::remove(trial.log_path, ec);
  if (!s.ok()) Die(s.message());
  if (sandbox->enabled()) {
    spdlog::info("functions run in a bwrap sandbox");
  } else if (sandbox_options.mode == SandboxMode::kAuto) {
    spdlog::warn("functions run WITHOUT a sandbox: bwrap does not work here ({})", why);
  } else {
    spdlog::warn("functions run without a sandbox (--sandbox off)");
  }
  return sandbox;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  CLI::App app{"rcuda-fn: serverless functions over rcuda, behind AWS Lambda's Invoke API"};
  app.add_option("--listen", flags.listen, "address to listen on")->capture_default_str();
  app.add_option("--port", flags.port, "TCP port (0: a free one)")->capture_default_str();
  app.add_option("--port-file", flags.port_file, "write the bound port here");
  app.add_option("--functions-dir", flags.functions_dir, "function definitions (*.yaml, SCAR's FDL), read at start");
  app.add_option("--state-dir", flags.state_dir, "where functions deployed over the API are kept");
  app.add_option("--work-root", flags.work_root, "invocations' working directories")->capture_default_str();
  app.add_option("--max-concurrency", flags.max_concurrency, "invocations at once (then 429)")->capture_default_str();
  app.add_option("--max-body-size", flags.max_body_size, "largest Invoke body (then 413)")->capture_default_str();
  app.add_option("--max-input-size", flags.max_input_size, "largest input object (default: the function's ephemeral storage)");
  app.add_option("--sandbox", flags.sandbox, "bwrap sandbox: off, auto, on")->capture_default_str();
  app.add_option("--bwrap", flags.bwrap, "the bwrap program")->capture_default_str();
  app.add_option("--sandbox-ro-bind", flags.sandbox_ro_binds, "a path functions may read in the sandbox (repeatable)");
  app.add_option("--run-as", flags.run_as, "user functions run as (rcuda-fn as root; default nobody)");
  app.add_option("--cgroup-parent", flags.cgroup_parent, "a delegated memory cgroup (default: RLIMIT_AS)");
  app.add_option("--kill-grace-ms", flags.kill_grace_ms, "SIGTERM to SIGKILL at a timeout")->capture_default_str();
  app.add_option("--rcuda-bin", flags.rcuda_bin, "directory of rcuda-run (default: rcuda-fn's own)");
  app.add_option("--exec-helper", flags.exec_helper, "the rcuda-fn-exec program (default: beside rcuda-fn)");
  app.add_option("--invoke-key-file", flags.invoke_key_file, "require Authorization: Bearer <key> on every request");
  app.add_option("--admin-key-file", flags.admin_key_file, "key for deploying and deleting functions over the API");
  app.add_option("--log-level", flags.log_level, "trace, debug, info, warn, error")->capture_default_str();
  app.add_flag("--keep-work-dirs", flags.keep_work_dirs, "leave invocations' directories (debugging)");
  app.add_flag("--check-config", flags.check_config, "load the definitions, print them and exit");
  CLI11_PARSE(app, argc, argv);
  InitLogging("rcuda-fn", flags.log_level);

  FunctionRegistry registry;
  std::vector<std::string> warnings;
  if (!flags.functions_dir.empty()) {
    Status s = registry.LoadDirectory(flags.functions_dir, &warnings);
    if (!s.ok()) Die(s.message());
  }
  if (!flags.state_dir.empty()) {
    Status s = registry.SetStateDirectory(flags.state_dir, &warnings);
    if (!s.ok()) Die(s.message());
  }
  for (const auto& warning : warnings) spdlog::warn("{}", warning);
  if (flags.check_config) {
    for (const auto& entry : registry.List()) std::printf("%s\n", ToJson(*entry.definition).dump(2).c_str());
    return 0;
  }

  RunnerOptions runner_options;
  SandboxOptions sandbox_options;
  Configure(flags, &runner_options, &sandbox_options);
  std::error_code ec;
  fs::create_directories(runner_options.work_root, ec);
  if (ec) Die("--work-root: " + ec.message());
  chmod(runner_options.work_root.c_str(), runner_options.run_as_uid ? 0711 : 0700);
  CleanWorkRoot(runner_options.work_root);

  // Signals are taken by sigwait below; every thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  std::unique_ptr<ExecHelper> helper;
  Status s = ExecHelper::Create(flags.exec_helper.empty() ? SelfDir() + "/rcuda-fn-exec" : flags.exec_helper, &helper);
  if (!s.ok()) Die(s.message());

  std::unique_ptr<Sandbox> sandbox = StartSandbox(runner_options, sandbox_options, *helper);

  S3Config s3;
  s = LoadS3Config(&s3);
  if (!s.ok()) Die("S3 configuration: " + s.message());
  std::unique_ptr<S3ObjectStore> store;
  s = S3ObjectStore::Create(s3, &store);
  if (!s.ok()) Die("S3: " + s.message());

  InvocationRunner runner(runner_options, store.get(), helper.get(), sandbox.get());
  ServerOptions server_options;
  server_options.listen = flags.listen;
  server_options.port = flags.port;
  server_options.max_concurrency = flags.max_concurrency;
  server_options.max_body_bytes = Size(flags.max_body_size, "--max-body-size");
  if (!flags.invoke_key_file.empty()) server_options.invoke_key = ReadKey(flags.invoke_key_file);
  if (!flags.admin_key_file.empty()) server_options.admin_key = ReadKey(flags.admin_key_file);
  if (flags.max_concurrency < 1) Die("--max-concurrency must be at least 1");
  InvokeServer server(server_options, &registry, &runner);
  int port = 0;
  s = server.Start(&port);
  if (!s.ok()) Die(s.message());
  if (!flags.port_file.empty()) {
    std::string tmp = flags.port_file + ".tmp";
    std::ofstream(tmp) << port << "\n";
    fs::rename(tmp, flags.port_file, ec);
  }
  spdlog::info("rcuda-fn listening on {}:{} ({} functions, {} at once, work root {}, functions run as {})",
               flags.listen, port, registry.List().size(), flags.max_concurrency, runner_options.work_root,
               runner_options.run_as_uid ? std::to_string(*runner_options.run_as_uid) : "rcuda-fn's user");

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  spdlog::info("signal {}: stopping; running invocations are ended", signal_number);
  helper->AbortAll();
  server.Stop();
  return 0;
}
