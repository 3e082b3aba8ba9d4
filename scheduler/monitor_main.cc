// rcuda-gpu-monitor: reports this node's GPUs and rcuda-server sessions to
// ssgmd. See docs/scheduler.md.
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>

#include "common/endpoint.h"
#include "common/env.h"
#include "common/log.h"
#include "protocol/lease_token.h"
#include "scheduler/host_name.h"
#include "scheduler/json.h"
#include "scheduler/line_client.h"
#include "scheduler/monitor.h"
#include "scheduler/units.h"
#include "scheduler/wire.h"

namespace {

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop = true; }

std::string HostName() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0 || !name[0]) return "localhost";
  return name;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace rcuda::sched;
  CLI::App app{"rcuda-gpu-monitor: reports this node's GPUs and rcuda-server sessions to ssgmd"};
  app.set_config("--config", "", "configuration file (key = value; keys are the long option names)");
  std::string scheduler, inventory, interval = "1s", log_level = "info";
  MonitorOptions options;
  int server_port = rcuda::kDefaultServerPort;
  bool once = false;
  app.add_option("--scheduler", scheduler, "ssgmd address, host[:port] (default: $SSGM_SERVER)");
  std::string client_key_file;
  app.add_option("--scheduler-key-file", client_key_file,
                 "ssgmd's node key (its --node-key-file; without one, its --client-key-file), to sign the reports "
                 "(default: $SSGM_KEY_FILE)");
  app.add_option("--node-name", options.node_name, "this node's name; must match rcuda-server --node-name "
                                                   "(default: the host name)");
  app.add_option("--advertise-host", options.advertise_host, "address clients use to reach this node's "
                                                             "rcuda-server (default: the node name)");
  app.add_option("--server-port", server_port, "rcuda-server's port, unless its status file says")
      ->capture_default_str();
  app.add_option("--server-status-file", options.server_status_file,
                 "rcuda-server's --status-file (sessions; without it the server's state is unknown)");
  app.add_option("--revoked-leases-file", options.revoked_leases_file,
                 "keep the leases released early here, for rcuda-server's --revoked-leases-file");
  app.add_option("--inventory", inventory, "read the GPUs from this file instead of NVML (machines without a GPU)");
  app.add_option("--interval", interval, "report period (e.g. 1s, 200ms)")->capture_default_str();
  app.add_flag("--once", once, "print one report as JSON on stdout and exit (nothing is sent)");
  app.add_option("--log-level", log_level)->capture_default_str();
  bool check_config = false;
  app.add_flag("--check-config", check_config, "validate the options and configuration, print them, and exit");
  CLI11_PARSE(app, argc, argv);

  rcuda::InitLogging("rcuda-gpu-monitor", log_level);
  auto fail = [](const std::string& message) {
    spdlog::critical("{}", message);
    return 1;
  };
  if (options.node_name.empty()) options.node_name = HostName();
  if (options.advertise_host.empty()) options.advertise_host = options.node_name;
  if (!IsValidNodeName(options.node_name)) return fail("bad node name '" + options.node_name + "'");
  // What clients will connect to, and what ssgm prints for shells to evaluate.
  if (rcuda::Status h = NormalizeAdvertisedHost(options.advertise_host, &options.advertise_host); !h.ok()) {
    return fail("--advertise-host: " + h.message());
  }
  if (server_port <= 0 || server_port > 65535) return fail("bad --server-port");
  options.server_port = uint16_t(server_port);
  rcuda::Status s = ParseDurationMs(interval, &options.interval_ms);
  if (s.ok() && options.interval_ms <= 0) s = rcuda::Status::InvalidValue("--interval must be positive");
  if (client_key_file.empty()) client_key_file = rcuda::GetEnvOr("SSGM_KEY_FILE", "");
  if (s.ok() && !client_key_file.empty()) s = rcuda::ReadLeaseKeyFile(client_key_file, &options.client_key);
  if (!s.ok()) return fail(s.message());

  if (check_config) {
    if (scheduler.empty()) scheduler = rcuda::GetEnvOr("SSGM_SERVER", "");
    std::string host;
    uint16_t port = 0;
    if (scheduler.empty() && !once) return fail("no scheduler: give --scheduler host[:port] or set SSGM_SERVER");
    if (!scheduler.empty()) {
      s = ParseHostPort(scheduler, kDefaultSsgmdPort, &host, &port);
      if (!s.ok()) return fail(s.message());
    }
    std::printf("revoked-leases-file %s\n", options.revoked_leases_file.empty()
                                                 ? "(none: the server is not told of released leases)"
                                                 : options.revoked_leases_file.c_str());
    std::printf("scheduler %s:%u\nnode-name %s\nadvertise-host %s\nserver-port %u\nserver-status-file %s\n"
                "gpus from %s\ninterval %lld ms\nsigned reports %s\n",
                host.c_str(), port, options.node_name.c_str(), options.advertise_host.c_str(), options.server_port,
                options.server_status_file.empty() ? "(none: server state unknown)" : options.server_status_file.c_str(),
                inventory.empty() ? "NVML" : ("inventory file " + inventory).c_str(), (long long)options.interval_ms,
                options.client_key.empty() ? "no (no scheduler-key-file)" : ("yes, key from " + client_key_file).c_str());
    return 0;
  }
  std::unique_ptr<GpuSource> source;
  if (!inventory.empty()) {
    source = NewInventoryGpuSource(inventory);
    spdlog::warn("GPU figures come from the inventory file {}, NOT from NVML: test equipment, not measurements",
                 inventory);
  } else {
    s = OpenNvmlGpuSource(&source);
    if (!s.ok()) return fail(s.message());
    spdlog::info("reading the GPUs through NVML");
  }
  if (!once) {
    if (scheduler.empty()) scheduler = rcuda::GetEnvOr("SSGM_SERVER", "");
    if (scheduler.empty()) return fail("no scheduler: give --scheduler host[:port] or set SSGM_SERVER");
    s = ParseHostPort(scheduler, kDefaultSsgmdPort, &options.scheduler_host, &options.scheduler_port);
    if (!s.ok()) return fail(s.message());
  }
  Monitor monitor(options, std::move(source));

  if (once) {
    NodeReport report;
    s = monitor.BuildReport(&report);
    if (!s.ok()) return fail(s.message());
    Json json = Json::Object();
    EncodeNodeReport(report, &json);
    std::cout << json.Dump() << std::endl;
    return 0;
  }

  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGPIPE, SIG_IGN);
  monitor.Run(&g_stop);
  spdlog::info("stopping");
  return 0;
}
