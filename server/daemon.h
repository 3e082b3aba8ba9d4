// The rcuda-server daemon: accepts client connections and hands each session
// to its own worker process. Workers are started ahead of demand ("warm"),
// having already initialized the GPU, so that a new session does not pay for
// driver start-up (about a quarter of a second on an H100), which matters to
// short serverless functions.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "protocol/transport.h"
#include "server/executor.h"
#include "server/lease_revocations.h"

namespace rcuda {

struct DaemonOptions {
  std::string listen_address = "0.0.0.0";
  uint16_t port = 8308;
  ExecutorOptions executor;
  int warm_workers = 1;         // spare workers kept ready per GPU in use
  std::vector<int> gpus = {0};  // GPUs to keep warm workers for from the start
  std::string port_file;        // written with the bound port once listening
  std::string status_file;      // JSON list of sessions, for rcuda-gpu-monitor
  std::string auth_key_file;
  std::string node_name;
  std::string revoked_leases_file;  // leases whose tokens are no longer honoured (lease_revocations.h)
  std::string log_level = "info";
  int max_sessions = 0;         // 0: no limit
  std::chrono::milliseconds hello_timeout{10000};
  bool shared_memory = true;    // also accept local clients through shared memory
};

class Daemon {
 public:
  explicit Daemon(DaemonOptions options);
  ~Daemon();

  // Serves until Stop() (or SIGTERM/SIGINT, which main() turns into Stop()).
  Status Run();
  void Stop();

 private:
  struct Worker {
    pid_t pid = -1;
    int control_fd = -1;
    int gpu = 0;
  };
  struct Session {
    uint64_t id;
    int gpu;
    pid_t worker_pid;
    std::string peer;
    int64_t started_unix;
    int control_fd;   // to hand the worker its host channel
    std::string key;  // the client presents it to attach that channel
    std::string lease;  // the ssgmd lease it holds, if any
  };

  void AcceptLoop(Listener* listener);
  void Intake(std::unique_ptr<Connection> connection);
  Status Dispatch(Connection& connection, int gpu, std::span<const uint8_t> hello);
  Status Attach(Connection& connection, const std::string& key, std::span<const uint8_t> hello);
  std::string LeaseOf(std::span<const uint8_t> hello) const;
  Status SpawnWorker(int gpu, Worker* worker);
  void KeepWarm();
  void ReapLoop();
  void WriteStatusFile();

  DaemonOptions options_;
  std::string auth_key_;  // to name sessions' leases in the status file
  std::unique_ptr<LeaseRevocations> revocations_;  // with --revoked-leases-file
  std::unique_ptr<Listener> listener_;
  std::unique_ptr<Listener> shm_listener_;
  std::atomic<bool> stopping_{false};

  std::mutex mu_;
  std::condition_variable cv_;
  std::map<int, std::vector<Worker>> warm_;  // by GPU
  std::map<pid_t, Session> sessions_;        // by worker pid
  std::map<int, bool> gpus_in_use_;
  uint64_t next_session_ = 0;
  int intakes_ = 0;
};

}  // namespace rcuda
