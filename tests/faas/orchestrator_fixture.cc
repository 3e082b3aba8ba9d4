#include "orchestrator_fixture.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

#include <httplib.h>

#include "faas/events/s3_event.h"
#include "faas/storage/s3_config.h"
#include "faas/storage/s3_object_store.h"
#include "scheduler/json.h"
#include "scheduler/ssgm_client.h"

namespace orch_test {

using faas_test::ReadFile;
using faas_test::Spawn;
using faas_test::WaitUntil;
using nlohmann::json;

namespace {

const std::string kBin = RCUDA_BIN_DIR;
constexpr const char* kNode = "orch-node";

// The function: runs vector_add on the leased GPU and writes
// results/<name>.out. Its input's first word decides what else it does:
//   crash-once    killed by SIGSEGV on its first run, fine after
//   crash-always  killed by SIGSEGV every time
//   hang-once     runs past its timeout on its first run, fine after
//   bad           refuses its input (exit 3), every time
//   slow          takes half a second more
// Every run leaves a line in $MARKS/<name>.runs.
constexpr const char* kFunctionScript = R"(ulimit -c 0
name=$(basename "$INPUT_FILE_PATH")
echo run >> "$MARKS/$name.runs"
mode=$(head -c 32 "$INPUT_FILE_PATH")
case "$mode" in
  crash-once*) if mkdir "$MARKS/$name.crashed" 2>/dev/null; then kill -SEGV $$; fi ;;
  crash-always*) kill -SEGV $$ ;;
  hang-once*) if mkdir "$MARKS/$name.hung" 2>/dev/null; then sleep 60; fi ;;
  bad*) echo "bad input: $name is not a job" >&2; exit 3 ;;
  slow*) sleep 0.5 ;;
esac
"$RCUDA_RUN" "$VECTOR_ADD" > "$TMP_OUTPUT_DIR/$name.out" || { echo "vector_add failed" >&2; exit 4; }
cat "$INPUT_FILE_PATH" >> "$TMP_OUTPUT_DIR/$name.out"
)";

std::string Indent(const std::string& text, const std::string& prefix) {
  std::istringstream in(text);
  std::string line, out;
  while (std::getline(in, line)) out += prefix + line + "\n";
  return out;
}

int ReadPort(const std::string& path) {
  std::string text = ReadFile(path);
  return text.empty() ? 0 : std::atoi(text.c_str());
}

std::string IsoNow() {
  char text[32];
  time_t now = time(nullptr);
  tm utc;
  gmtime_r(&now, &utc);
  strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S.000Z", &utc);
  return text;
}

void Require(bool ok, const std::string& what) {
  if (!ok) throw std::runtime_error(what);
}

// The reply to `op` from ssgmd, signed with the operator key.
rcuda::sched::Json Ssgmd(int port, const std::string& operator_key, const std::string& op) {
  rcuda::sched::SsgmClientOptions options;
  options.port = uint16_t(port);
  options.client_key = operator_key;
  options.retry_for_ms = 500;
  options.connect_timeout_ms = 500;
  rcuda::sched::Json reply;
  auto make = [&](int64_t) {
    rcuda::sched::Json message = rcuda::sched::Json::Object();
    message.Set("op", op);
    return message;
  };
  if (!rcuda::sched::CallSsgmd(options, make, 0, &reply).ok()) return rcuda::sched::Json();
  return reply;
}

}  // namespace

// ---- S3Service ----------------------------------------------------------------

S3Service::S3Service() {
  std::string why;
  install_ = faas_test::S3rverDir(&why);
  if (install_.empty()) throw std::runtime_error(why);
  Start();
}

S3Service::~S3Service() { Stop(); }

void S3Service::Start() {
  std::string log = dir_.Path("s3rver." + std::to_string(starts_) + ".log");
  pid_ = Spawn({"node", "--openssl-legacy-provider", install_ + "/node_modules/s3rver/bin/s3rver.js", "--directory",
                dir_.Path("data"), "--address", "127.0.0.1", "--port", std::to_string(port_), "--service-endpoint",
                "localhost"},
               log);
  std::regex listening("S3rver listening on 127\\.0\\.0\\.1:([0-9]+)");
  std::smatch match;
  std::string text;
  bool started = WaitUntil(30000, [&] {
    text = ReadFile(log);
    return std::regex_search(text, match, listening) || faas_test::Exited(pid_);
  });
  if (!started || !std::regex_search(text, match, listening)) {
    faas_test::Stop(pid_);
    pid_ = -1;
    throw std::runtime_error("s3rver did not start: " + text);
  }
  port_ = std::stoi(match[1].str());
  httplib::Client client("127.0.0.1", port_);
  client.set_connection_timeout(1, 0);
  Require(WaitUntil(10000, [&] { return bool(client.Get("/")); }), "s3rver does not answer HTTP");
  ++starts_;
}

void S3Service::Stop() {
  faas_test::Stop(pid_);
  pid_ = -1;
}

// ---- Pipeline -----------------------------------------------------------------

Pipeline::Pipeline(PipelineOptions options) : options_(std::move(options)) {
  chmod(dir_.path().c_str(), 0755);
  for (const char* sub : {"functions", "work", "marks", "fn-state"}) mkdir(dir_.Path(sub).c_str(), 0755);
  // Functions run as nobody when the tests run as root (rcuda-fn's rule).
  chmod(dir_.Path("marks").c_str(), 01777);
  InstallFunctionTools();
  WriteFiles();
  redis_ = std::make_unique<faas_test::RedisServer>(/*aof=*/true);
  s3_ = std::make_unique<S3Service>();
  // Every process started from here (rcuda-fn, the test's own store) reads these.
  setenv("AWS_ENDPOINT_URL", s3_->endpoint().c_str(), 1);
  setenv("AWS_ACCESS_KEY_ID", faas_test::S3rver::kAccessKey, 1);
  setenv("AWS_SECRET_ACCESS_KEY", faas_test::S3rver::kSecretKey, 1);
  setenv("RCUDA_S3_ADDRESSING", "path", 1);
  unsetenv("RCUDA_S3_CONFIG");
  rcuda::faas::S3Config config;
  Require(rcuda::faas::LoadS3Config(&config).ok(), "S3 configuration");
  config.max_attempts = 8;  // the test's own uploads ride out an S3 restart
  std::unique_ptr<rcuda::faas::S3ObjectStore> store;
  Require(rcuda::faas::S3ObjectStore::Create(config, &store).ok(), "S3 store");
  store_ = std::move(store);
  Require(store_->CreateBucket("inbox").ok() && store_->CreateBucket("outbox").ok(), "buckets");

  rcuda::faas::RedisQueueOptions queue;
  Require(rcuda::faas::ParseRedisAddress(redis_->address(), &queue.redis).ok(), "redis address");
  queue.consumer = "test-publisher";
  Require(rcuda::faas::RedisStreamsQueue::Open(queue, &queue_).ok(), "queue");

  StartServer();
  StartSsgmd();
  StartMonitor();
  WaitForNodeLive();
  StartFn();
}

Pipeline::~Pipeline() {
  faas_test::Stop(orchestrator_, 2000);
  faas_test::Stop(fn_);
  faas_test::Stop(monitor_);
  faas_test::Stop(ssgmd_);
  faas_test::Stop(server_);
  queue_.reset();
  s3_.reset();
  redis_.reset();
}

void Pipeline::InstallFunctionTools() {
  // What the function runs, copied where its user may reach it: a build
  // directory under a private home is out of nobody's reach.
  namespace fs = std::filesystem;
  fs::create_directories(dir_.Path("rcuda/bin"));
  fs::create_directories(dir_.Path("rcuda/lib/rcuda"));
  fs::copy_file(kBin + "/rcuda-run", dir_.Path("rcuda/bin/rcuda-run"));
  fs::copy_file(std::string(RCUDA_CUDART_DIR) + "/libcudart.so.13", dir_.Path("rcuda/lib/rcuda/libcudart.so.13"));
  fs::create_symlink("libcudart.so.13", dir_.Path("rcuda/lib/rcuda/libcudart.so"));
  fs::copy_file(RCUDA_VECTOR_ADD, dir_.Path("rcuda/vector_add"));
  for (const char* sub : {"rcuda", "rcuda/bin", "rcuda/lib", "rcuda/lib/rcuda"}) chmod(dir_.Path(sub).c_str(), 0755);
}

void Pipeline::WriteFiles() {
  faas_test::WriteFile(dir_.Path("lease.key"), "orchestrator-test-lease-key-0123456789\n");
  faas_test::WriteFile(dir_.Path("client.key"), "orchestrator-test-client-key-0123456789\n");
  faas_test::WriteFile(dir_.Path("operator.key"), "orchestrator-test-operator-key-0123456789\n");
  faas_test::WriteFile(dir_.Path("orchestrator.key"), "orchestrator-test-secret-key-0123456789\n");
  std::string inventory;
  for (int i = 0; i < options_.gpus; ++i) {
    inventory += std::to_string(i) + " " + options_.gpu_memory + " " + options_.gpu_memory + " 0 rcuda test backend\n";
  }
  faas_test::WriteFile(dir_.Path("inventory"), inventory);
  std::string fdl = "functions:\n  aws:\n  - lambda:\n      name: gpujob\n      timeout: " +
                    std::to_string(options_.function_timeout_s) +
                    "\n      environment:\n        Variables:\n          VECTOR_ADD: " + dir_.Path("rcuda/vector_add") +
                    "\n          MARKS: " + dir_.Path("marks") + "\n      script: |\n" +
                    Indent(kFunctionScript, "        ") +
                    "      input: [{storage_provider: s3, path: inbox/jobs}]\n"
                    "      output: [{storage_provider: s3, path: outbox/results}]\n"
                    "      gpu: {count: 1, memory: " + options_.function_memory + "}\n";
  faas_test::WriteFile(dir_.Path("functions/gpujob.yaml"), fdl);
}

void Pipeline::StartServer() {
  std::string port_file = dir_.Path("server.port");
  std::remove(port_file.c_str());
  server_ = Spawn({RCUDA_SERVER_PATH, "--listen", "127.0.0.1", "--port", std::to_string(server_port_), "--port-file",
                   port_file, "--backend", "test", "--test-kernels", RCUDA_TEST_KERNELS, "--auth-key-file",
                   dir_.Path("lease.key"), "--node-name", kNode, "--status-file", dir_.Path("server-status.json"),
                   "--no-shared-memory"},
                  dir_.Path("server." + std::to_string(server_starts_++) + ".log"));
  Require(WaitUntil(30000, [&] { return ReadPort(port_file) > 0 || faas_test::Exited(server_); }) &&
              ReadPort(port_file) > 0,
          "rcuda-server did not start:\n" + Logs());
  server_port_ = ReadPort(port_file);
}

void Pipeline::KillServer() {
  kill(server_, SIGKILL);
  faas_test::WaitExit(server_);
  server_ = -1;
}

void Pipeline::StartSsgmd() {
  std::string port_file = dir_.Path("ssgmd.port");
  std::remove(port_file.c_str());
  ssgmd_ = Spawn({kBin + "/ssgmd", "--listen", "127.0.0.1", "--port", std::to_string(ssgmd_port_), "--port-file",
                  port_file, "--journal", dir_.Path("ssgmd.journal"), "--journal-sync", "none", "--auth-key-file",
                  dir_.Path("lease.key"), "--client-key-file", dir_.Path("client.key"), "--operator-key-file",
                  dir_.Path("operator.key"), "--node-timeout", "3s"},
                 dir_.Path("ssgmd." + std::to_string(ssgmd_starts_++) + ".log"));
  Require(WaitUntil(20000, [&] { return ReadPort(port_file) > 0 || faas_test::Exited(ssgmd_); }) &&
              ReadPort(port_file) > 0,
          "ssgmd did not start:\n" + Logs());
  ssgmd_port_ = ReadPort(port_file);
}

void Pipeline::KillSsgmd() {
  kill(ssgmd_, SIGKILL);
  faas_test::WaitExit(ssgmd_);
  ssgmd_ = -1;
}

void Pipeline::StartMonitor() {
  monitor_ = Spawn({kBin + "/rcuda-gpu-monitor", "--scheduler", "127.0.0.1:" + std::to_string(ssgmd_port_),
                    "--node-name", kNode, "--advertise-host", "127.0.0.1", "--server-port",
                    std::to_string(server_port_), "--server-status-file", dir_.Path("server-status.json"),
                    "--inventory", dir_.Path("inventory"), "--interval", "200ms", "--scheduler-key-file",
                    dir_.Path("client.key")},
                   dir_.Path("monitor.log"));
}

void Pipeline::WaitForNodeLive() {
  std::string key = ReadFile(dir_.Path("operator.key"));
  while (!key.empty() && key.back() == '\n') key.pop_back();
  bool live = WaitUntil(20000, [&] {
    rcuda::sched::Json status = Ssgmd(ssgmd_port_, key, "status");
    const rcuda::sched::Json* nodes = status.is_object() ? status.Find("nodes") : nullptr;
    if (!nodes || !nodes->is_array()) return false;
    for (const auto& node : nodes->items()) {
      const rcuda::sched::Json* flag = node.Find("live");
      if (flag && flag->is_bool() && flag->AsBool()) return true;
    }
    return false;
  });
  Require(live, "the node never became live at ssgmd:\n" + Logs());
}

void Pipeline::StopFn() {
  faas_test::Stop(fn_, 10000);
  fn_ = -1;
}

void Pipeline::StartFn() {
  std::string port_file = dir_.Path("fn.port");
  std::remove(port_file.c_str());
  fn_ = Spawn({kBin + "/rcuda-fn", "--listen", "127.0.0.1", "--port", std::to_string(fn_port_), "--port-file", port_file,
               "--functions-dir", dir_.Path("functions"), "--work-root", dir_.Path("work"), "--sandbox", "off",
               "--max-concurrency", std::to_string(options_.fn_concurrency), "--kill-grace-ms", "500",
               "--rcuda-bin", dir_.Path("rcuda/bin")},
              dir_.Path("rcuda-fn." + std::to_string(fn_starts_++) + ".log"));
  Require(WaitUntil(20000, [&] { return ReadPort(port_file) > 0 || faas_test::Exited(fn_); }) &&
              ReadPort(port_file) > 0,
          "rcuda-fn did not start:\n" + Logs());
  fn_port_ = ReadPort(port_file);
}

void Pipeline::StartOrchestrator() {
  orchestrator_ = Spawn(
      {kBin + "/rcuda-orchestrator", "--functions-dir", dir_.Path("functions"), "--redis", redis_->address(),
       "--visibility-timeout", options_.visibility_timeout, "--max-attempts", std::to_string(options_.max_attempts),
       "--max-in-flight", std::to_string(options_.max_in_flight), "--prefetch", std::to_string(options_.prefetch),
       "--receive-wait", "200ms", "--ssgmd", "127.0.0.1:" + std::to_string(ssgmd_port_), "--ssgmd-key-file",
       dir_.Path("client.key"), "--lease-secret-key-file", dir_.Path("orchestrator.key"), "--lease-mode",
       options_.lease_mode, "--lease-wait", "2s", "--lease-ttl", options_.lease_ttl, "--busy-backoff-max", "500ms",
       "--invoke-endpoint", "http://127.0.0.1:" + std::to_string(fn_port_), "--invoke-margin", "2s",
       "--stats-file", dir_.Path("stats.json"), "--stats-interval", "100ms", "--job-log", dir_.Path("jobs.jsonl"),
       "--drain-timeout", "10s", "--log-level", "debug"},
      dir_.Path("orchestrator." + std::to_string(orchestrator_starts_++) + ".log"));
}

void Pipeline::KillOrchestrator() {
  kill(orchestrator_, SIGKILL);
  faas_test::WaitExit(orchestrator_);
  orchestrator_ = -1;
}

void Pipeline::StopOrchestrator() {
  kill(orchestrator_, SIGTERM);
  orchestrator_exit_ = faas_test::WaitExit(orchestrator_);
  orchestrator_ = -1;
}

std::string Pipeline::Submit(const std::string& name, const std::string& content) {
  std::string key = "jobs/" + name;
  rcuda::Status s = store_->Put("inbox", key, content);
  Require(s.ok(), "upload: " + s.ToString());
  rcuda::faas::S3EventRecord record;
  record.event_name = "ObjectCreated:Put";
  record.event_time = IsoNow();
  record.bucket = "inbox";
  record.key = key;
  record.size = content.size();
  s = queue_->Publish(rcuda::faas::S3EventNotificationJson({record}), nullptr);
  Require(s.ok(), "publish: " + s.ToString());
  submitted_.insert(key);
  return key;
}

std::map<std::string, std::string> Pipeline::Outputs() {
  std::map<std::string, std::string> outputs;
  rcuda::faas::ListPage page;
  std::string token;
  do {
    if (!store_->List("outbox", "results/", token, 1000, &page).ok()) return {};
    for (const auto& object : page.objects) {
      std::string name = object.key.substr(8);  // "results/"
      if (name.size() > 4 && name.compare(name.size() - 4, 4, ".out") == 0) name.resize(name.size() - 4);
      std::string content;
      if (!store_->Get("outbox", object.key, &content, 1 << 20).ok()) return {};
      outputs["jobs/" + name] = content;
    }
    token = page.next_continuation_token;
  } while (!token.empty());
  return outputs;
}

std::map<std::string, std::vector<std::string>> Pipeline::DeadLetters() {
  std::map<std::string, std::vector<std::string>> letters;
  std::vector<rcuda::faas::DeadLetter> list;
  if (!queue_->ListDeadLetters(1000, &list).ok()) return {};
  for (const auto& letter : list) {
    std::vector<rcuda::faas::S3EventRecord> records;
    std::string key = "(unreadable body)";
    if (rcuda::faas::ParseS3EventNotification(letter.body, &records).ok() && records.size() == 1) key = records[0].key;
    letters[key].push_back(letter.reason);
  }
  return letters;
}

int64_t Pipeline::LiveLeases(std::string* invariants) {
  // `ssgm status` as an operator sees it (lease ids included).
  std::string command = kBin + "/ssgm --server 127.0.0.1:" + std::to_string(ssgmd_port_) + " --operator-key-file " +
                        dir_.Path("operator.key") + " --retry-for 1s --format json status 2>/dev/null";
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return -1;
  std::string text;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) text.append(buffer, n);
  pclose(pipe);
  json status = json::parse(text, nullptr, false);
  if (!status.is_object() || !status.contains("lease_count") || !status.contains("leases")) return -1;
  if (invariants) *invariants = status.value("invariants", json("?")).dump();
  return status["lease_count"].get<int64_t>();
}

Settlement Pipeline::WaitForSettlement(int timeout_ms) {
  Settlement result;
  auto settled = [&] {
    result.outputs = Outputs();
    result.dead_letters = DeadLetters();
    for (const auto& key : submitted_) {
      if (!result.outputs.count(key) && !result.dead_letters.count(key)) return false;
    }
    if (!queue_->Stats(&result.queue).ok() || result.queue.length != 0 || result.queue.pending != 0) return false;
    result.leases = LiveLeases(&result.invariants);
    return result.leases == 0;
  };
  bool done = WaitUntil(timeout_ms, settled);
  for (const auto& key : submitted_) {
    std::string name = key.substr(5);
    std::string runs = ReadFile(dir_.Path("marks/" + name + ".runs"));
    result.runs[name] = int(std::count(runs.begin(), runs.end(), '\n'));
    int outputs = int(result.outputs.count(key));
    int letters = result.dead_letters.count(key) ? int(result.dead_letters[key].size()) : 0;
    if (outputs + letters != 1 && result.problem.empty()) {
      result.problem = key + ": " + std::to_string(outputs) + " output(s) and " + std::to_string(letters) +
                       " dead letter(s)";
    }
  }
  for (const auto& record : JobLog()) {
    if (record.value("outcome", "") == "succeeded") ++result.acknowledged[record.value("message_id", "")];
  }
  if (!done) {
    result.problem = "not settled within " + std::to_string(timeout_ms) + " ms (queue length " +
                     std::to_string(result.queue.length) + ", pending " + std::to_string(result.queue.pending) +
                     ", leases " + std::to_string(result.leases) + "); " + result.problem;
  }
  return result;
}

json Pipeline::Stats() const {
  json stats = json::parse(ReadFile(dir_.Path("stats.json")), nullptr, false);
  return stats.is_object() ? stats : json::object();
}

std::vector<json> Pipeline::JobLog() const {
  std::vector<json> records;
  std::istringstream in(ReadFile(dir_.Path("jobs.jsonl")));
  std::string line;
  while (std::getline(in, line)) {
    json record = json::parse(line, nullptr, false);
    if (record.is_object()) records.push_back(std::move(record));
  }
  return records;
}

std::string Pipeline::Logs() const {
  std::string text;
  for (const char* name : {"orchestrator.0.log", "orchestrator.1.log", "rcuda-fn.0.log", "rcuda-fn.1.log", "ssgmd.0.log", "ssgmd.1.log",
                           "server.0.log", "server.1.log", "monitor.log"}) {
    std::string log = ReadFile(dir_.Path(name));
    if (log.empty()) continue;
    if (log.size() > 6000) log = "..." + log.substr(log.size() - 6000);
    text += "---- " + std::string(name) + "\n" + log + "\n";
  }
  return text;
}

}  // namespace orch_test
