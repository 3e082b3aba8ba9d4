// TEST EQUIPMENT for rcuda-orchestrator's tests: the whole pipeline on
// 127.0.0.1, every service a process started here and stopped by its pid:
//   redis-server (AOF, fsync always; the harness's), s3rver (restartable on
//   its port), rcuda-server (TEST backend: host kernels, no GPU) requiring
//   lease tokens, ssgmd (journal, client and operator keys), rcuda-gpu-monitor
//   reading an inventory file (no NVML), rcuda-fn, and rcuda-orchestrator.
// The function (`gpujob`) runs tests/cuda/vector_add through rcuda-run on its
// leased GPU and writes results/<input name>.out; what its input says makes
// it crash, hang, refuse its input or dawdle (see kFunctionScript).
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "faas/queue/redis_streams_queue.h"
#include "faas/storage/object_store.h"
#include "harness.h"

namespace orch_test {

struct PipelineOptions {
  int gpus = 1;                    // in the inventory (the test backend has one "GPU")
  std::string gpu_memory = "16G";  // each
  std::string function_memory = "2GiB";  // per invocation: slots = gpus * (gpu_memory / this)
  int function_timeout_s = 10;
  int max_in_flight = 8;
  int prefetch = 4;
  int max_attempts = 3;
  std::string visibility_timeout = "3s";
  std::string lease_mode = "blocking";
  std::string lease_ttl = "4s";
  int fn_concurrency = 8;
};

// What the pipeline did with each uploaded input.
struct Settlement {
  std::map<std::string, std::string> outputs;       // input key -> output content
  std::map<std::string, std::vector<std::string>> dead_letters;  // input key -> reasons
  std::map<std::string, int> runs;                  // input name -> times the function started on it
  rcuda::faas::QueueStats queue;
  int64_t leases = -1;                              // `ssgm status` (operator): live leases
  std::string invariants;                           // `ssgm status`: "ok" or what is wrong
  std::map<std::string, int> acknowledged;          // message id -> "succeeded" lines in the job log
  std::string problem;                              // empty when every input has one output or one letter
};

class S3Service {
 public:
  S3Service();
  ~S3Service();
  void Start();  // a free port the first time, the same port after
  void Stop();
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  faas_test::TempDir dir_;
  std::string install_;
  int port_ = 0;
  int starts_ = 0;
  pid_t pid_ = -1;
};

class Pipeline {
 public:
  explicit Pipeline(PipelineOptions options = PipelineOptions());
  ~Pipeline();

  // The services, each restartable where a test needs it.
  void StartOrchestrator();
  void KillOrchestrator();  // SIGKILL
  void StopOrchestrator();  // SIGTERM, then waits for it to exit; returns its exit status via Exited
  int orchestrator_exit_code() const { return orchestrator_exit_; }
  void KillSsgmd();
  void StartSsgmd();
  void KillServer();
  void StartServer();
  void StopFn();   // SIGTERM: rcuda-fn ends its running invocations and exits
  void StartFn();  // on its port
  S3Service& s3() { return *s3_; }
  faas_test::RedisServer& redis() { return *redis_; }

  // Uploads inbox/jobs/<name> and publishes its event (what the watcher or
  // the webhook bridge would publish). Returns the key.
  std::string Submit(const std::string& name, const std::string& content);

  // Waits (bounded) until every submitted input has an output or a dead
  // letter, nothing is left in the queue and ssgmd holds no lease; then
  // returns what is there. `problem` is set when the wait ran out.
  Settlement WaitForSettlement(int timeout_ms);
  // The orchestrator's stats file (empty object before the first write).
  nlohmann::json Stats() const;
  // The job log's lines.
  std::vector<nlohmann::json> JobLog() const;
  // The orchestrator's log, and the others', for failure messages.
  std::string Logs() const;

  rcuda::faas::Queue& queue() { return *queue_; }
  const std::set<std::string>& submitted() const { return submitted_; }
  const PipelineOptions& options() const { return options_; }
  int64_t LiveLeases(std::string* invariants = nullptr);

 private:
  void InstallFunctionTools();
  void WriteFiles();
  void StartMonitor();
  void WaitForNodeLive();
  std::map<std::string, std::string> Outputs();
  std::map<std::string, std::vector<std::string>> DeadLetters();

  PipelineOptions options_;
  faas_test::TempDir dir_;
  std::unique_ptr<faas_test::RedisServer> redis_;
  std::unique_ptr<S3Service> s3_;
  std::unique_ptr<rcuda::faas::RedisStreamsQueue> queue_;
  std::unique_ptr<rcuda::faas::ObjectStore> store_;
  pid_t server_ = -1, ssgmd_ = -1, monitor_ = -1, fn_ = -1, orchestrator_ = -1;
  int server_port_ = 0, ssgmd_port_ = 0, fn_port_ = 0;
  int server_starts_ = 0, ssgmd_starts_ = 0, orchestrator_starts_ = 0, fn_starts_ = 0;
  int orchestrator_exit_ = -1;
  std::set<std::string> submitted_;
};

}  // namespace orch_test
