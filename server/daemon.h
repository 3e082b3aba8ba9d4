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
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/endpoint.h"
#include "common/status.h"
#include "protocol/rcuda_generated.h"
#include "protocol/tls/tls_context.h"
#include "protocol/transport.h"
#include "server/admission.h"
#include "server/deadline_watch.h"
#include "server/device_output.h"
#include "server/executor.h"
#include "server/host_segment_table.h"
#include "server/lease_revocations.h"
#include "server/lease_memory.h"

namespace rcuda {

struct DaemonOptions {
  std::string listen_address = "0.0.0.0";
  uint16_t port = kDefaultServerPort;
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
  // Before its Hello a connection is anonymous: its first frame must come
  // within hello_timeout and be small, and there are at most
  // max_handshakes of them at once, and max_connections_per_peer pending
  // handshakes and sessions per peer address (0: no limit).
  std::chrono::milliseconds hello_timeout{10000};
  int max_handshakes = 128;
  int max_connections_per_peer = 64;
  // A session whose client sent nothing for this long, with nothing of it
  // in progress, is ended (0: never).
  std::chrono::seconds session_idle_timeout{8 * 3600};
  // Transports of the registry (protocol/transport_registry.h) not to
  // offer: "shm" (--no-shared-memory), "ucx" (--no-ucx). The first one left
  // that can be the main listener (TCP) listens on --port.
  std::set<std::string> disabled_transports;
  // Pinned host segments one session may map (SessionPolicy::host_segment_bytes).
  uint64_t session_pinned_bytes = kDefaultSessionPinnedBytes;
  // Device output (a kernel's printf) a worker keeps for its client between
  // two replies, in KiB; 0: not captured (SessionPolicy::device_output_bytes).
  uint64_t session_device_output_kib = DeviceOutput::kDefaultCapKib;
  // TCP data streams (striped TCP) one plain TCP session may attach
  // (SessionPolicy::tcp_streams); 0 turns striping off.
  int tcp_streams = 8;
  // TLS on the TCP port (daemon_tls.cc): offered when a certificate is set.
  TlsServerOptions tls;
  // Which TCP clients must use TLS: none, those not on loopback, all.
  // Shared memory (local, its clients' uids known) is never refused.
  enum class RequireTls { kOff, kRemote, kAll };
  RequireTls require_tls = RequireTls::kOff;
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
    std::string address;  // the peer address it counts against (Admission)
    std::string lease_account;  // key of leases_, empty without a lease
    int lease_slot = -1;
    bool handed_over = false;   // the worker took the session
    std::string transport = {};  // the kind it was handed over as ("tcp", "shm", "ucx", "tls")
    std::string transport_detail = {};  // what the worker reported it runs on (UCX's transports)
    bool reported = false;      // the worker's report arrived (transport_report.h)
    bool tls = false;           // its host channel must come over TLS too
    std::string route = {};     // AttachRoute(key), for a TLS host channel
  };
  // The memory account of one lease on one GPU, while it has sessions.
  struct LeaseAccount {
    int fd = -1;
    std::unique_ptr<LeaseMemory> memory;
    std::vector<bool> used = std::vector<bool>(LeaseMemory::kSlots, false);
    ~LeaseAccount();
  };

  // Listens with every transport that has a listener and is not disabled,
  // the main one (TCP) first: *port is the port it bound. Also settles
  // which riding transports (UCX) are offered.
  Status StartListeners(uint16_t* port);
  // The kind a connection accepted as `connection.Kind()` is handed to its
  // worker as: the transport its Hello asks for when that one rides on the
  // accepted kind and is offered here, else its own.
  std::string HandoffKind(const Connection& connection, std::span<const uint8_t> hello) const;
  // The offered transports a warm worker prepares (TransportEntry::prepare).
  std::string TransportsToPrepare() const;
  // Takes the transport reports workers sent (transport_report.h). Under mu_.
  bool CollectTransportReports();
  void AcceptLoop(Listener* listener);
  void Intake(std::unique_ptr<Connection> connection, std::string address);
  // *counted: the session now counts against `address` until its worker
  // ends (Admission).
  // `tls`: the connection's first frame was a TLS preamble, and its worker
  // does the handshake (daemon_tls.cc).
  Status Dispatch(Connection& connection, int gpu, std::span<const uint8_t> hello, const std::string& address,
                  bool* counted, bool tls = false);
  Status Attach(Connection& connection, const std::string& key, std::span<const uint8_t> hello);
  // Refuses a session in the daemon itself (with the reason, as a worker would).
  Status Refuse(Connection& connection, uint64_t id, const std::string& why);
  std::string LeaseOf(std::span<const uint8_t> hello) const;
  // Why a session for `gpu` is refused by the daemon itself ("" if it is not).
  std::string NoSuchGpu(int gpu) const;
  // A spare worker for `gpu` (or a new one); fails at --max-sessions.
  Status TakeWorker(int gpu, Worker* worker);

  // ---- TLS (daemon_tls.cc) ----
  // Checks the TLS options (loads the certificate once) before listening.
  Status PrepareTls();
  // Whether a plaintext connection is refused (--require-tls); *why says
  // so to the client.
  bool RefusesPlaintext(const Connection& connection, const std::string& address, std::string* why) const;
  // A connection whose first frame is a TLS preamble (`release_watch`: see
  // Intake; `deadline`: the handshake's).
  Status IntakeTls(Connection& connection, const wire::Message& preamble, std::span<const uint8_t> bytes,
                   const std::string& address, std::chrono::steady_clock::time_point deadline,
                   const std::function<bool()>& release_watch, bool* counted);
  // After a TLS session's handoff (Dispatch): the Hello its worker read
  // inside TLS, and the daemon's verdict on it, with the lease's account
  // (tls_handoff.h). *refused: the worker tells its client and ends.
  Status JudgeTlsSession(pid_t worker, int report_fd, int gpu, bool* refused);
  Status AttachTls(Connection& connection, const wire::Message& preamble, std::span<const uint8_t> bytes,
                   std::chrono::steady_clock::time_point deadline, const std::function<bool()>& release_watch);
  // Refuses in plaintext, then reads what the client sent after its
  // preamble (its ClientHello) until it leaves or `deadline`, so that
  // closing does not reset the connection before the refusal is read.
  void RefuseTls(Connection& connection, uint64_t id, const std::string& why,
                 std::chrono::steady_clock::time_point deadline);
  // A slot in the memory account of `account` (created on first use), and
  // giving it back once its session ended. Under mu_.
  Status TakeLeaseSlot(const std::string& account, int* fd, int* slot);
  void ReleaseLeaseSlot(const std::string& account, int slot);
  // How many GPUs this node has, asked of a child process.
  Status CountGpus();
  Status SpawnWorker(int gpu, Worker* worker);
  void KeepWarm();
  void ReapLoop();
  void WriteStatusFile();
  void NoteRefusal(const std::string& why);

  DaemonOptions options_;
  std::string auth_key_;  // to name sessions' leases in the status file
  std::unique_ptr<LeaseRevocations> revocations_;  // with --revoked-leases-file
  std::vector<std::unique_ptr<Listener>> listeners_;  // the main one first; guarded by mu_
  std::set<std::string> offered_;  // transports offered; set before accepting
  bool tls_offered_ = false;  // a certificate was given, and it loads
  std::atomic<bool> stopping_{false};

  std::mutex mu_;
  std::condition_variable cv_;
  std::map<int, std::vector<Worker>> warm_;  // by GPU
  std::map<pid_t, Session> sessions_;        // by worker pid
  std::map<int, bool> gpus_in_use_;
  uint64_t next_session_ = 0;
  int intakes_ = 0;
  Admission admission_;                          // guarded by mu_
  std::map<std::string, LeaseAccount> leases_;   // guarded by mu_
  // Warm workers that exit before serving (a GPU that fails to open) are
  // replaced after a growing pause, not in a loop.
  std::map<int, int> warm_failures_;                                    // by GPU, guarded by mu_
  std::map<int, std::chrono::steady_clock::time_point> spawn_after_;  // by GPU, guarded by mu_
  struct Refusals {
    std::chrono::steady_clock::time_point last_log;
    bool logged = false;
    int unlogged = 0;
  };
  std::map<std::string, Refusals> refusals_;  // by limit, guarded by mu_
  int gpu_count_ = 0;           // set before accepting
  std::string gpu_count_error_;
  DeadlineWatch deadlines_;     // handshakes
};

}  // namespace rcuda
