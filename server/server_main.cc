// rcuda-server: the daemon on every GPU node. See README.md for options.
//
// The same binary is the per-session worker: the daemon starts
// `rcuda-server --worker-control-fd N --worker-gpu G ...`, which opens the GPU
// and waits for the daemon to hand it a session.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/log.h"
#include "protocol/adopt.h"
#include "protocol/lease_token.h"
#include "protocol/tls/tls_preamble.h"
#include "protocol/transport_registry.h"
#include "protocol/version.h"
#include "protocol/tcp_stripes.h"
#include "server/daemon.h"
#include "server/fd_passing.h"
#include "server/session_worker.h"
#include "server/session_worker_tls.h"
#include "server/test_backend.h"
#include "server/transport_report.h"

namespace {

using namespace rcuda;

// What the daemon's --worker-prepare names (TransportEntry::prepare: UCX's
// context), done before a session comes. A failure is only noted: the
// session's adoption tries again, and says why to its client.
void PrepareTransports(const std::string& names) {
  std::stringstream list(names);
  for (std::string name; std::getline(list, name, ',');) {
    const TransportEntry* entry = FindTransport(name);
    if (!entry || !entry->prepare) continue;
    Status s = entry->prepare();
    if (!s.ok()) spdlog::warn("cannot prepare the {} transport: {}", entry->label, s.message());
  }
}

// The log line, and the daemon's status file, say what the session's
// connection runs on (UCX: which of its transports).
void ReportTransport(int control_fd, const std::string& kind, Connection& connection) {
  const TransportEntry* entry = FindTransport(kind);
  std::string detail = entry && entry->describe ? entry->describe(connection) : "";
  if (detail.empty()) return;
  spdlog::info("session connection {} runs on {} {}", connection.PeerName(), entry->label, detail);
  Status s = SendTransportReport(control_fd, detail);
  if (!s.ok()) spdlog::warn("{}", s.message());
}

int RunWorker(int control_fd, int gpu, const ExecutorOptions& executor_options, SessionPolicy policy,
              const std::string& prepare) {
  // Open the GPU before there is a session: that is what makes this worker
  // warm. A failure is kept and reported to the client in the handshake.
  std::unique_ptr<Executor> executor;
  Status open = CreateExecutor(executor_options, &executor);
  if (open.ok()) open = executor->Open(gpu);
  if (!open.ok()) spdlog::error("worker for GPU {}: {}", gpu, open.message());
  PrepareTransports(prepare);

  Handoff handoff;
  bool closed = false;
  Status s = ReceiveSession(control_fd, &handoff, &closed);
  if (!s.ok()) {
    if (!closed) spdlog::error("worker: {}", s.message());
    return closed ? 0 : 1;
  }
  std::unique_ptr<Connection> connection;
  // A TLS client's socket comes raw: the handshake is this worker's
  // (server/session_worker_tls.h).
  s = handoff.kind == kTlsTransportName ? StartTlsSession(policy, control_fd, &handoff, &connection)
                                        : AdoptConnection(handoff.kind, handoff.fds, &connection);
  if (!s.ok()) {
    spdlog::error("worker: {}", s.message());
    return 1;
  }
  ReportTransport(control_fd, handoff.kind, *connection);
  policy.gpu = gpu;
  // The control socket stays open: the session's host channel arrives on it.
  policy.control_fd = control_fd;
  policy.session_key = handoff.key;
  policy.lease_fd = handoff.lease_fd;
  policy.lease_slot = handoff.lease_slot;
  SessionWorker worker(std::move(connection), std::move(executor), open, std::move(policy));
  s = worker.Run(handoff.hello);
  if (!s.ok()) spdlog::warn("session ended: {}", s.message());
  // The process is the session: end it here, without unwinding. Threads of
  // the wait pool may still be blocked on the GPU, and the driver frees
  // everything the session held as the process goes.
  spdlog::default_logger()->flush();
  std::fflush(nullptr);
  _exit(s.ok() ? 0 : 2);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"rcuda-server: serves CUDA calls of remote programs on this node's GPUs"};
  DaemonOptions options;
  int worker_control_fd = -1;
  int worker_gpu = 0;
  app.add_option("--listen", options.listen_address, "Address to listen on")->capture_default_str();
  app.add_option("--port", options.port, "TCP port (0 picks a free one)")->capture_default_str();
  app.add_option("--backend", options.executor.backend,
                 "cuda (the GPUs, via the CUDA driver) or test (TEST EQUIPMENT: the fake CUDA driver, host memory "
                 "and host kernels)")
      ->check(CLI::IsMember({"cuda", "test"}))
      ->capture_default_str();
  app.add_option("--test-driver", options.executor.test_driver,
                 "Test backend: the fake libcuda.so.1 (default: lib/fake-driver/ of the build tree)")
      ->envname(kTestDriverEnv);
  app.add_option("--test-kernels", options.executor.test_kernel_plugins,
                 "Test backend: shared object of host kernels (repeatable)");
  app.add_option("--test-memory", options.executor.test_memory_bytes, "Test backend: bytes of simulated GPU memory")
      ->capture_default_str();
  app.add_option("--warm-workers", options.warm_workers, "Workers kept ready per GPU in use")->capture_default_str();
  app.add_option("--gpus", options.gpus, "GPUs to keep warm workers for from the start")->capture_default_str();
  app.add_option("--max-sessions", options.max_sessions, "Concurrent sessions allowed (0: no limit)")
      ->capture_default_str();
  app.add_option("--port-file", options.port_file, "Write the bound port to this file");
  app.add_option("--status-file", options.status_file, "Keep a JSON list of sessions in this file");
  app.add_option("--auth-key-file", options.auth_key_file,
                 "Require lease tokens signed with the key in this file (shared with ssgmd)");
  app.add_option("--node-name", options.node_name,
                 "This node's name in lease tokens (with --auth-key-file; default: the host name)");
  app.add_option("--revoked-leases-file", options.revoked_leases_file,
                 "Refuse, and end the sessions of, leases listed here (written by rcuda-gpu-monitor)");
  app.add_option("--max-handshakes", options.max_handshakes,
                 "Connections whose first message is still awaited, at once (0: no limit)")
      ->capture_default_str();
  app.add_option("--max-connections-per-peer", options.max_connections_per_peer,
                 "Pending handshakes and sessions of one peer address (0: no limit)")
      ->capture_default_str();
  int64_t handshake_seconds = options.hello_timeout.count() / 1000;
  app.add_option("--handshake-timeout", handshake_seconds,
                 "Seconds a new connection has to send its first message")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  app.add_option("--session-host-staging", options.executor.host_staging_bytes,
                 "Bytes of (pinned) host memory one session may hold for copies that wait and graphs' staging")
      ->capture_default_str();
  app.add_option("--session-pinned-bytes", options.session_pinned_bytes,
                 "Bytes of pinned host memory one local (shared-memory) session may share with its worker")
      ->capture_default_str();
  app.add_option("--session-device-output-kib", options.session_device_output_kib,
                 "KiB of device output (kernels' printf) a session keeps between two synchronizations for its "
                 "program's stdout; beyond, it is dropped and counted (0: not captured, it goes to this server's "
                 "stdout)")
      ->check(CLI::Range(uint64_t{0}, DeviceOutput::kMaxCapKib))
      ->capture_default_str();
  app.add_option("--tcp-streams", options.tcp_streams,
                 "TCP data streams one plain TCP session may open for its large copies (striped TCP; 0: none)")
      ->check(CLI::Range(0, kMaxTcpStreams))
      ->capture_default_str();
  int64_t idle_seconds = options.session_idle_timeout.count();
  app.add_option("--session-idle-timeout", idle_seconds,
                 "End a session whose client sent nothing for this many seconds, with nothing in progress (0: never)")
      ->capture_default_str();
  app.add_option("--log-level", options.log_level, "trace, debug, info, warn, error")->capture_default_str();
  app.add_option("--tls-cert", options.tls.certificate_file,
                 "Offer TLS on the TCP port with this certificate (PEM, with its chain)");
  app.add_option("--tls-key", options.tls.key_file, "The private key of --tls-cert (PEM)");
  app.add_option("--tls-client-ca", options.tls.client_ca_file,
                 "Require TLS clients to present a certificate signed by a CA in this file (PEM)");
  std::string require_tls = "off";
  app.add_flag("--require-tls{remote}", require_tls,
               "Refuse plaintext TCP clients: 'remote' (alone: those not on loopback) or 'all' (=off: accept)")
      ->check(CLI::IsMember({"off", "remote", "all"}));
  bool no_shm = false;
  app.add_flag("--no-shared-memory", no_shm,
               "Do not offer the shared-memory transport to local clients (Unix socket in $RCUDA_SOCKET_DIR)");
  bool no_ucx = false;
  app.add_flag("--no-ucx", no_ucx,
               "Do not offer the UCX transport (InfiniBand, RoCE) on the TCP port (default: offered when "
               "libucp.so.0 loads)");
  std::string worker_prepare;
  app.add_option("--worker-prepare", worker_prepare, "(internal) transports a warm worker prepares")->group("");
  app.add_option("--worker-control-fd", worker_control_fd, "(internal) run as a session worker")->group("");
  app.add_option("--worker-gpu", worker_gpu, "(internal) the worker's GPU")->group("");
  bool count_gpus = false;
  app.add_flag("--count-gpus", count_gpus, "(internal) print how many GPUs the backend has")->group("");
  app.set_version_flag("--version", std::string("rcuda-server ") + kRcudaVersion);
  CLI11_PARSE(app, argc, argv);

  signal(SIGPIPE, SIG_IGN);
  // Before any thread: it sets the fake driver's environment.
  if (Status s = ConfigureTestBackend(&options.executor); !s.ok()) {
    std::fprintf(stderr, "rcuda-server: %s\n", s.message().c_str());
    return 2;
  }
  if (count_gpus) {
    // For the daemon, which must not initialize the driver itself.
    int count = 0;
    Status s = CountDevices(options.executor, &count);
    if (!s.ok()) {
      std::printf("%s\n", s.message().c_str());
      return 1;
    }
    std::printf("%d\n", count);
    return 0;
  }
  if (no_shm) options.disabled_transports.insert("shm");
  if (no_ucx) options.disabled_transports.insert("ucx");
  options.session_idle_timeout = std::chrono::seconds(std::max<int64_t>(0, idle_seconds));
  options.hello_timeout = std::chrono::seconds(handshake_seconds);
  options.require_tls = require_tls == "all"      ? DaemonOptions::RequireTls::kAll
                        : require_tls == "remote" ? DaemonOptions::RequireTls::kRemote
                                                  : DaemonOptions::RequireTls::kOff;
  SessionPolicy policy;
  policy.port = options.port;
  policy.idle_timeout = options.session_idle_timeout;
  policy.host_segment_bytes = options.session_pinned_bytes;
  policy.device_output_bytes = options.session_device_output_kib * 1024;
  policy.tcp_streams = options.tcp_streams;
  policy.handshake_timeout = options.hello_timeout;
  if (!options.auth_key_file.empty()) {
    Status s = ReadLeaseKeyFile(options.auth_key_file, &policy.auth_key);
    if (!s.ok()) {
      std::fprintf(stderr, "rcuda-server: %s\n", s.message().c_str());
      return 2;
    }
    // A token names the node its grants are for; a server that did not
    // know its own name would honour grants for any node.
    if (options.node_name.empty()) {
      char host[256] = {};
      if (gethostname(host, sizeof host - 1) != 0 || !host[0]) {
        std::fprintf(stderr, "rcuda-server: --auth-key-file needs --node-name (the host name is unknown)\n");
        return 2;
      }
      options.node_name = host;
    }
  }
  policy.node_name = options.node_name;

  if (worker_control_fd >= 0) {
    InitLogging("rcuda-worker " + std::to_string(getpid()), options.log_level);
    if (!options.tls.certificate_file.empty()) {
      // Loaded while warm: a TLS session's handshake does not wait for it.
      Status t = TlsContext::ForServer(options.tls, &policy.tls);
      if (!t.ok()) spdlog::error("worker: no TLS: {}", t.message());
    }
    return RunWorker(worker_control_fd, worker_gpu, options.executor, policy, worker_prepare);
  }

  InitLogging("rcuda-server", options.log_level);
  // SIGTERM and SIGINT stop the daemon cleanly, from a thread of their own.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  Daemon daemon(options);
  std::thread signal_thread([&] {
    int sig;
    sigwait(&stop_signals, &sig);
    spdlog::info("stopping on {}", strsignal(sig));
    daemon.Stop();
  });
  signal_thread.detach();
  Status s = daemon.Run();
  if (!s.ok()) {
    spdlog::error("{}", s.message());
    return 1;
  }
  return 0;
}
