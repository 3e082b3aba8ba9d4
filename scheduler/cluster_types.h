// What the scheduler knows about the cluster: nodes as their monitors report
// them, and leases (a holder's share of one or more GPUs).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rcuda::sched {

// Whether the node's rcuda-server runs, as its monitor sees it. kUnknown: the
// monitor was not told where the server's status file is.
enum class ServerState { kUnknown, kUp, kDown };
const char* ServerStateName(ServerState state);

struct GpuReport {
  int index = 0;  // the server's GPU index (RCUDA_DEVICE_i=host@port:<index>)
  std::string name;
  std::string uuid;
  uint64_t total_bytes = 0;
  uint64_t free_bytes = 0;  // as the driver reports it, for display
  int utilization_percent = 0;
};

// One session of the node's rcuda-server (from its status file).
struct SessionReport {
  int64_t id = 0;
  int gpu = 0;
  int64_t worker_pid = 0;
  std::string peer;
  std::string lease;  // the lease the session's token named; empty without authentication
  int64_t started_unix = 0;
  std::string transport;         // how it reached the server: "tcp", "shm", "ucx" ("" from older servers)
  std::string transport_detail;  // what that runs on, as its worker reported it (UCX: "rc_mlx5/mlx5_0:1")
};

struct NodeReport {
  std::string node;        // node name: what lease tokens and the server's --node-name use
  std::string host;        // the address clients connect to
  uint16_t port = 8308;    // rcuda-server's port
  std::string source;      // "nvml" or "inventory:<path>": where the GPU figures come from
  ServerState server = ServerState::kUnknown;
  std::vector<GpuReport> gpus;
  std::vector<SessionReport> sessions;
};

// One GPU of a lease.
struct Grant {
  std::string node;
  std::string host;
  uint16_t port = 0;
  int gpu = 0;
  uint64_t mem_bytes = 0;
};

struct Lease {
  std::string id;
  std::string key;           // idempotency key; empty when the request had none
  std::string secret_sha256; // hex SHA-256 of the holder's secret (lease_secret.h); empty: operators only
  uint64_t mem_bytes = 0;    // per GPU
  int64_t ttl_ms = 0;
  int64_t created_ms = 0;    // unix time, milliseconds
  int64_t expires_ms = 0;    // unix time, milliseconds
  // The latest expiry the lease ever had: its tokens may be valid until then
  // (a renewal may shorten the lease, not a token already handed out).
  int64_t tokens_until_ms = 0;
  std::vector<Grant> grants;
};

}  // namespace rcuda::sched
