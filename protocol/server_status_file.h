// rcuda-server's status file (its --status-file option): the one definition
// of its format, written by the server and read by rcuda-gpu-monitor to report
// the server's sessions and whether it runs. One JSON object on one line; the
// server rewrites the file atomically on every session start and end:
//   {"server_pid":123,"port":8308,"backend":"cuda","sessions":[{"id":7,"gpu":0,
//    "worker_pid":456,"peer":"10.0.0.5:41234","lease":"...","started_unix":1764263000,
//    "transport":"ucx","transport_detail":"rc_mlx5/mlx5_0:1"}]}
// Readers ignore members they do not know, so a field can be added without
// breaking an older monitor: add it to the struct, to ToJson and FromJson in
// server_status_file.cc, and to the round-trip test.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace rcuda {

// One session of the server, as the status file lists it.
struct ServerStatusSession {
  int64_t id = 0;
  int gpu = 0;
  int64_t worker_pid = 0;
  std::string peer;
  std::string lease;  // the lease the session's token named; empty without authentication
  int64_t started_unix = 0;
  std::string transport;         // how it reached the server: "tcp", "shm", "ucx" ("" from older servers)
  std::string transport_detail;  // what that runs on, as its worker reported it (UCX: "rc_mlx5/mlx5_0:1")
};

struct ServerStatusFile {
  int64_t server_pid = 0;  // required when parsing
  uint16_t port = 0;       // 0: not named (the monitor then uses its own setting)
  std::string backend;
  std::vector<ServerStatusSession> sessions;
};

// The file's text: one JSON object and a newline.
std::string FormatServerStatus(const ServerStatusFile& status);
Status ParseServerStatus(std::string_view text, ServerStatusFile* status);

// Writes `path` atomically (a temporary file beside it, then rename).
Status WriteServerStatusFile(const std::string& path, const ServerStatusFile& status);
// Reads and parses `path`; refuses files over 16 MiB.
Status ReadServerStatusFile(const std::string& path, ServerStatusFile* status);

}  // namespace rcuda
