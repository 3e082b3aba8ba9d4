// rcuda-gpu-monitor's work: every interval, read the GPUs (GpuSource) and
// the local rcuda-server's sessions (its status file), and report them to
// ssgmd over one long-lived connection, reconnecting whenever it breaks.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "common/endpoint.h"
#include "common/status.h"
#include "scheduler/cluster_types.h"
#include "scheduler/gpu_source.h"
#include "scheduler/line_client.h"
#include "scheduler/monitor_revocations.h"

namespace rcuda::sched {

struct MonitorOptions {
  std::string scheduler_host = "127.0.0.1";
  uint16_t scheduler_port = 8309;
  std::string node_name;        // must equal the server's --node-name (lease tokens name it)
  std::string advertise_host;   // what clients connect to (RCUDA_DEVICE_i=<host>@port:gpu)
  uint16_t server_port = kDefaultServerPort;  // used when the status file names no port
  std::string server_status_file;  // empty: the server's state is reported as unknown
  int64_t interval_ms = 1000;
  std::string client_key;  // non-empty: sign each report (ssgmd's node key, or its client key)
  std::string revoked_leases_file;  // non-empty: keep it up to date for rcuda-server (monitor_revocations.h)
};

class Monitor {
 public:
  Monitor(MonitorOptions options, std::unique_ptr<GpuSource> source);

  Status BuildReport(NodeReport* report);
  // Reports every interval until *stop becomes true.
  void Run(const std::atomic<bool>* stop);

 private:
  // Sends one report and reads ssgmd's answer; *more: ssgmd has more revocations.
  Status Exchange(LineClient* client, const NodeReport& report, MonitorRevocations* revocations, bool* more);

  MonitorOptions options_;
  std::unique_ptr<GpuSource> source_;
};

}  // namespace rcuda::sched
