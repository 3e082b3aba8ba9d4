// ssgmd: the scheduler daemon. See docs/scheduler.md.
#include <CLI/CLI.hpp>
#include <asio.hpp>

#include <csignal>
#include <cstdio>
#include <fstream>

#include "common/log.h"
#include "protocol/lease_token.h"
#include "scheduler/ssgmd_service.h"
#include "scheduler/units.h"
#include "scheduler/wire.h"

namespace {

int Fail(const std::string& message) {
  spdlog::critical("{}", message);
  return 1;
}

// Each key protects something else (docs/security.md): one file given for two
// purposes would hand one group the other's power.
rcuda::Status CheckKeysDistinct(const rcuda::sched::SsgmdOptions& o) {
  auto same = [](const std::string& a, const std::string& b) { return !a.empty() && a == b; };
  if (same(o.lease_key, o.client_key) || same(o.lease_key, o.node_key) || same(o.lease_key, o.operator_key)) {
    return rcuda::Status::InvalidValue("the lease key (auth-key-file) must differ from the client, node and operator "
                                       "keys: whoever holds it can make tokens");
  }
  if (same(o.operator_key, o.client_key) || same(o.operator_key, o.node_key)) {
    return rcuda::Status::InvalidValue("the operator key must differ from the client and node keys");
  }
  return rcuda::Status::Ok();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace rcuda::sched;
  CLI::App app{"ssgmd: the rcuda GPU scheduler daemon (leases of GPU memory partitions)"};
  app.set_config("--config", "", "configuration file (key = value; keys are the long option names)");
  SsgmdOptions options;
  std::string port_file, journal = "/var/lib/rcuda/ssgmd.journal", key_file, policy = "best-fit";
  std::string reserve = "0", node_timeout = "5s", default_ttl = "300s", max_ttl = "24h", max_wait = "1h";
  std::string log_level = "info";
  int port = kDefaultSsgmdPort;
  size_t max_queue = options.scheduler.max_queue;
  app.add_option("--listen", options.listen_address, "address to listen on")->capture_default_str();
  app.add_option("--port", port, "TCP port (0: pick a free one)")->capture_default_str();
  app.add_option("--port-file", port_file, "write the port actually bound to this file");
  app.add_option("--journal", journal, "journal file (\"none\": leases do not survive a restart)")
      ->capture_default_str();
  std::string journal_sync = "fdatasync";
  app.add_option("--journal-sync", journal_sync,
                 "fdatasync (each batch synced: survives machine crashes) or none (written only: survives ssgmd "
                 "crashes, not machine crashes)")
      ->capture_default_str();
  app.add_option("--auth-key-file", key_file, "key shared with the rcuda-servers, to sign lease tokens");
  std::string client_key_file, node_key_file, operator_key_file;
  app.add_option("--client-key-file", client_key_file,
                 "key shared with ssgm users (and monitors, without a node key): requests not signed with it are "
                 "refused");
  app.add_option("--node-key-file", node_key_file,
                 "key shared with the monitors: reports not signed with it are refused");
  app.add_option("--operator-key-file", operator_key_file,
                 "key of the operators: requests signed with it may renew and release any lease and see lease ids");
  app.add_option("--max-revocations", options.max_revocations,
                 "released leases with live tokens kept at most; beyond, new requests are busy")
      ->capture_default_str();
  app.add_option("--policy", policy, "best-fit, spread, least-loaded or round-robin")->capture_default_str();
  app.add_option("--gpu-reserve", reserve, "memory per GPU kept out of every partition (e.g. 512M)")
      ->capture_default_str();
  app.add_option("--node-timeout", node_timeout, "a node whose monitor is silent this long gets no new leases")
      ->capture_default_str();
  app.add_option("--default-ttl", default_ttl, "a lease's time to live when the request names none")
      ->capture_default_str();
  app.add_option("--max-ttl", max_ttl, "longest time to live a request may ask for")->capture_default_str();
  app.add_option("--max-wait", max_wait, "longest a blocking request waits")->capture_default_str();
  app.add_option("--max-gpus-per-request", options.max_gpus_per_request)->capture_default_str();
  app.add_option("--max-queue", max_queue, "blocking requests that may wait at once")->capture_default_str();
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")->capture_default_str();
  bool check_config = false;
  app.add_flag("--check-config", check_config, "validate the options and configuration, print them, and exit");
  CLI11_PARSE(app, argc, argv);

  rcuda::InitLogging("ssgmd", log_level);
  if (port < 0 || port > 65535) return Fail("bad --port");
  options.port = uint16_t(port);
  options.journal_path = journal == "none" ? "" : journal;
  options.scheduler.max_queue = max_queue;
  rcuda::Status s = ParsePolicy(policy, &options.scheduler.policy);
  if (journal_sync == "fdatasync") options.journal_sync = true;
  else if (journal_sync == "none") options.journal_sync = false;
  else s = rcuda::Status::InvalidValue("--journal-sync must be fdatasync or none");
  if (s.ok()) s = ParseBytes(reserve, &options.scheduler.gpu_reserve_bytes);
  if (s.ok()) s = ParseDurationMs(node_timeout, &options.scheduler.node_timeout_ms);
  if (s.ok()) s = ParseDurationMs(default_ttl, &options.default_ttl_ms);
  if (s.ok()) s = ParseDurationMs(max_ttl, &options.max_ttl_ms);
  if (s.ok()) s = ParseDurationMs(max_wait, &options.max_wait_ms);
  if (s.ok() && !key_file.empty()) s = rcuda::ReadLeaseKeyFile(key_file, &options.lease_key);
  if (s.ok() && !client_key_file.empty()) s = rcuda::ReadLeaseKeyFile(client_key_file, &options.client_key);
  if (s.ok() && !node_key_file.empty()) s = rcuda::ReadLeaseKeyFile(node_key_file, &options.node_key);
  if (s.ok() && !operator_key_file.empty()) s = rcuda::ReadLeaseKeyFile(operator_key_file, &options.operator_key);
  if (s.ok()) s = CheckKeysDistinct(options);
  if (s.ok() && (options.max_gpus_per_request < 1 || options.max_gpus_per_request > int(kMaxGrantsPerLease))) {
    s = rcuda::Status::InvalidValue("max-gpus-per-request must be 1 to " + std::to_string(kMaxGrantsPerLease));
  }
  if (s.ok() && options.max_revocations < 1) s = rcuda::Status::InvalidValue("max-revocations must be at least 1");
  if (!s.ok()) return Fail(s.message());
  if (options.default_ttl_ms <= 0 || options.default_ttl_ms > options.max_ttl_ms) {
    return Fail("default-ttl must be positive and at most max-ttl");
  }

  if (check_config) {
    std::printf("journal-sync %s\n", options.journal_sync ? "fdatasync" : "none");
    std::printf("listen %s:%d\njournal %s\ntokens %s\npolicy %s\ngpu-reserve %s\nnode-timeout %lld ms\n"
                "default-ttl %lld ms\nmax-ttl %lld ms\nmax-wait %lld ms\nmax-gpus-per-request %d\nmax-queue %zu\n",
                options.listen_address.c_str(), port, options.journal_path.empty() ? "none" : options.journal_path.c_str(),
                options.lease_key.empty() ? "off (no auth-key-file)" : ("on, key from " + key_file).c_str(),
                PolicyName(options.scheduler.policy), FormatBytes(options.scheduler.gpu_reserve_bytes).c_str(),
                (long long)options.scheduler.node_timeout_ms, (long long)options.default_ttl_ms,
                (long long)options.max_ttl_ms, (long long)options.max_wait_ms, options.max_gpus_per_request,
                options.scheduler.max_queue);
    std::printf("client-auth %s\n",
                options.client_key.empty() ? "off (no client-key-file)" : ("on, key from " + client_key_file).c_str());
    std::printf("node-auth %s\n", options.node_key.empty() ? "off (no node-key-file: reports need the client key)"
                                                           : ("on, key from " + node_key_file).c_str());
    std::printf("operators %s\nmax-revocations %zu\n",
                options.operator_key.empty() ? "none (no operator-key-file)"
                                             : ("key from " + operator_key_file).c_str(),
                options.max_revocations);
    return 0;
  }
  std::signal(SIGPIPE, SIG_IGN);
  asio::io_context io(1);
  SsgmdService service(io, options);
  s = service.Start();
  if (!s.ok()) return Fail(s.message());
  if (!port_file.empty()) {
    std::string temp = port_file + ".tmp";
    std::ofstream(temp) << service.Port() << "\n";
    if (std::rename(temp.c_str(), port_file.c_str()) != 0) return Fail("cannot write " + port_file);
  }
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const asio::error_code& ec, int signal) {
    if (ec) return;
    spdlog::info("signal {}: stopping", signal);
    service.Stop();
    io.stop();
  });
  io.run();
  return service.failed() ? 1 : 0;
}
