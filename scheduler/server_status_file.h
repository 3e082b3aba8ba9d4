// rcuda-server's status file (its --status-file option), which the monitor
// reads to report the server's sessions and whether it runs. The server
// rewrites it atomically on every session start and end:
//   {"server_pid":123,"port":8308,"backend":"cuda","sessions":[{"id":7,"gpu":0,
//    "worker_pid":456,"peer":"10.0.0.5:41234","lease":"...","started_unix":1764263000,
//    "transport":"ucx","transport_detail":"rc_mlx5/mlx5_0:1"}]}
// ("transport" and "transport_detail" are optional: older servers lack them.)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "scheduler/cluster_types.h"

namespace rcuda::sched {

struct ServerStatus {
  int64_t server_pid = 0;
  uint16_t port = 0;
  std::string backend;
  std::vector<SessionReport> sessions;
};

Status ParseServerStatus(std::string_view text, ServerStatus* status);
Status ReadServerStatusFile(const std::string& path, ServerStatus* status);
// Whether a process with this id exists (kill(pid, 0)).
bool ProcessExists(int64_t pid);

}  // namespace rcuda::sched
