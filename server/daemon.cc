#include "server/daemon.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <thread>

#include "common/env.h"
#include "protocol/frame.h"
#include "protocol/lease_token.h"
#include "protocol/server_status_file.h"
#include "protocol/tls/tls_preamble.h"
#include "protocol/transport_registry.h"
#include "server/fd_passing.h"
#include "server/hello_refusal.h"
#include "server/transport_report.h"

namespace rcuda {
namespace {

// A Hello is a few hundred bytes (a lease token included); the first frame
// of a connection nobody knows yet is refused above this, before anything
// is allocated for it.
constexpr uint32_t kMaxHelloBytes = 16 << 10;

// A session key: 128 random bits, hex.
std::string RandomKey() {
  unsigned char bytes[16];
  std::ifstream urandom("/dev/urandom", std::ios::binary);
  urandom.read(reinterpret_cast<char*>(bytes), sizeof bytes);
  static const char* hex = "0123456789abcdef";
  std::string key;
  for (unsigned char b : bytes) {
    key += hex[b >> 4];
    key += hex[b & 15];
  }
  return key;
}

// Compares keys in time independent of where they differ.
bool KeysEqual(const std::string& a, const std::string& b) {
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

std::string DescribeExit(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("signal ") + strsignal(WTERMSIG(status));
  return "status " + std::to_string(status);
}

}  // namespace

Daemon::Daemon(DaemonOptions options)
    : options_(std::move(options)),
      admission_(Admission::Limits{options_.max_handshakes, options_.max_connections_per_peer}) {}

Daemon::LeaseAccount::~LeaseAccount() {
  if (fd >= 0) close(fd);
}

Daemon::~Daemon() { Stop(); }

Status Daemon::Run() {
  if (!options_.auth_key_file.empty()) RCUDA_RETURN_IF_ERROR(ReadLeaseKeyFile(options_.auth_key_file, &auth_key_));
  if (!options_.revoked_leases_file.empty()) {
    revocations_ = std::make_unique<LeaseRevocations>(options_.revoked_leases_file);
  }
  if (!auth_key_.empty()) spdlog::info("sessions need lease tokens that grant node '{}'", options_.node_name);
  Status counted = CountGpus();
  if (!counted.ok()) {
    gpu_count_error_ = counted.message();
    spdlog::error("no usable GPU on this node: {}; sessions will be refused", gpu_count_error_);
  } else {
    spdlog::info("{} GPU(s) on this node", gpu_count_);
  }
  std::vector<int> gpus;
  for (int gpu : options_.gpus) {
    if (gpu >= 0 && gpu < gpu_count_) {
      gpus.push_back(gpu);
    } else {
      spdlog::warn("--gpus: this node has no GPU {}", gpu);
    }
  }
  options_.gpus = gpus;
  RCUDA_RETURN_IF_ERROR(PrepareTls());
  uint16_t port = 0;
  RCUDA_RETURN_IF_ERROR(StartListeners(&port));
  options_.port = port;
  spdlog::info("rcuda-server listening on {}:{} with the {} backend{}", options_.listen_address, port,
               options_.executor.backend,
               options_.executor.backend == "test" ? " (TEST BACKEND: host memory and host kernels, not a GPU)" : "");
  {
    std::lock_guard lock(mu_);
    for (int gpu : options_.gpus) gpus_in_use_[gpu] = true;
  }
  WriteStatusFile();
  std::thread reaper([this] { ReapLoop(); });
  // The main listener is served by this thread, every other one (shared
  // memory's Unix socket) by a thread of its own.
  std::vector<std::thread> accepts;
  std::vector<Listener*> listeners;
  {
    std::lock_guard lock(mu_);
    for (auto& l : listeners_) listeners.push_back(l.get());
  }
  for (size_t i = 1; i < listeners.size(); ++i) accepts.emplace_back([this, l = listeners[i]] { AcceptLoop(l); });
  if (!options_.port_file.empty()) {
    std::string tmp = options_.port_file + ".tmp";
    std::ofstream(tmp) << port << "\n";
    std::rename(tmp.c_str(), options_.port_file.c_str());
  }
  AcceptLoop(listeners[0]);
  for (auto& t : accepts) t.join();

  // Shut down: end every worker; their sessions' GPU memory is freed as they exit.
  {
    std::unique_lock lock(mu_);
    for (auto& [gpu, workers] : warm_) {
      for (auto& w : workers) {
        close(w.control_fd);
        kill(w.pid, SIGTERM);
      }
    }
    for (auto& [pid, session] : sessions_) kill(pid, SIGTERM);
    deadlines_.ExpireAll();  // handshakes still waiting for their Hello end now
    cv_.wait_for(lock, std::chrono::seconds(5), [&] { return intakes_ == 0; });
  }
  cv_.notify_all();
  reaper.join();
  spdlog::info("rcuda-server stopped");
  return Status::Ok();
}

Status Daemon::StartListeners(uint16_t* port) {
  const std::vector<TransportEntry>& all = Transports();
  auto disabled = [&](const TransportEntry& e) { return options_.disabled_transports.count(e.name) > 0; };
  auto listen = [&](const TransportEntry& e, uint16_t at, std::string* description) {
    TransportListenOptions options;
    options.address = options_.listen_address;
    options.port = at;
    std::unique_ptr<Listener> listener;
    std::string note;
    Status s = e.listen(options, &listener, description, &note);
    if (!note.empty()) spdlog::warn("{}: {}", e.label, note);
    if (s.ok()) {
      std::lock_guard lock(mu_);
      listeners_.push_back(std::move(listener));
    }
    return s;
  };
  // The main listener first: its port names the others (and is --port-file's).
  const TransportEntry* main = nullptr;
  for (const TransportEntry& e : all) {
    if (!main && e.main_listener && e.listen && !disabled(e)) main = &e;
  }
  if (!main) return Status::Unavailable("no transport to listen on --port (all disabled)");
  std::string description;
  RCUDA_RETURN_IF_ERROR(listen(*main, options_.port, &description));
  {
    std::lock_guard lock(mu_);
    *port = listeners_[0]->Port();
  }
  offered_.insert(main->name);
  for (const TransportEntry& e : all) {
    if (&e == main || disabled(e)) continue;
    std::string note;
    if (e.available && !e.available(&note)) {
      spdlog::info("no {} transport: {}", e.label, note);
      continue;
    }
    if (e.listen) {
      Status s = listen(e, *port, &description);
      if (!s.ok()) {
        spdlog::warn("no {} transport: {}", e.label, s.message());
        continue;
      }
      spdlog::info("{}: {}", e.label, description);
      offered_.insert(e.name);
    } else if (!e.rides_on.empty() && offered_.count(e.rides_on)) {
      // Rides on a listener listed before it (the registry's order).
      spdlog::info("{} offered on the {} port{}", e.label, e.rides_on, note.empty() ? "" : " (" + note + ")");
      offered_.insert(e.name);
    }
  }
  return Status::Ok();
}

std::string Daemon::HandoffKind(const Connection& connection, std::span<const uint8_t> hello) const {
  const std::string accepted = connection.Kind();
  const wire::Message* message = VerifiedMessage(hello);
  const wire::Hello* h = message ? message->request_as_Hello() : nullptr;
  if (!h || !h->transport() || h->transport()->str() == accepted) return accepted;
  const TransportEntry* asked = FindTransport(h->transport()->string_view());
  // Not offered (--no-ucx, no libucp here): the worker answers on the
  // connection as it came, and the client sees that it was not upgraded.
  if (!asked || asked->rides_on != accepted || !offered_.count(asked->name)) return accepted;
  return asked->name;
}

std::string Daemon::TransportsToPrepare() const {
  std::string names;
  for (const TransportEntry& e : Transports()) {
    if (e.prepare && offered_.count(e.name)) names += (names.empty() ? "" : ",") + e.name;
  }
  return names;
}

bool Daemon::CollectTransportReports() {
  bool changed = false;
  for (auto& [pid, session] : sessions_) {
    if (session.reported || !session.handed_over) continue;
    std::string detail;
    if (TakeTransportReport(session.control_fd, &detail)) {
      session.reported = true;
      session.transport_detail = detail;
      spdlog::info("session {}: {} over {}", session.id, session.transport, detail);
      changed = true;
    }
  }
  return changed;
}

void Daemon::AcceptLoop(Listener* listener) {
  while (!stopping_) {
    std::unique_ptr<Connection> connection;
    Status s = listener->Accept(&connection);
    if (!s.ok()) {
      if (stopping_) break;
      spdlog::warn("{}", s.message());
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    // Counted before anything else is spent on it: a peer that opens
    // connections faster than it completes handshakes is turned away here.
    std::string address = PeerAddress(*connection);
    {
      std::lock_guard lock(mu_);
      std::string why;
      if (!admission_.AdmitHandshake(address, &why)) {
        NoteRefusal(why);
        continue;  // the connection closes as it goes
      }
      ++intakes_;
    }
    std::thread([this, c = std::move(connection), a = std::move(address)]() mutable {
      Intake(std::move(c), std::move(a));
    }).detach();
  }
}

void Daemon::NoteRefusal(const std::string& why) {
  // At most one line a second for each limit (named at the end of `why`),
  // however fast connections are refused.
  std::string limit = why.substr(why.rfind('('));
  Refusals& r = refusals_[limit];
  ++r.unlogged;
  auto now = std::chrono::steady_clock::now();
  if (r.logged && now - r.last_log < std::chrono::seconds(1)) return;
  spdlog::warn("refused {} connection(s) before their handshake: {}", r.unlogged, why);
  r.unlogged = 0;
  r.last_log = now;
  r.logged = true;
}

void Daemon::Stop() {
  if (stopping_.exchange(true)) return;
  {
    std::lock_guard lock(mu_);
    for (auto& l : listeners_) l->Close();
  }
  cv_.notify_all();
}

void Daemon::Intake(std::unique_ptr<Connection> connection, std::string address) {
  std::string peer = connection->PeerName();
  // A client that connects and says nothing, or trickles its Hello, must
  // not hold a thread for long: the watch shuts the connection down at the
  // deadline, which fails the read below.
  const auto deadline = std::chrono::steady_clock::now() + options_.hello_timeout;
  uint64_t watch = deadlines_.Arm(connection.get(), deadline);
  FrameHeader header;
  std::vector<uint8_t> hello;
  Status s = ReadFrame(*connection, &header, &hello, nullptr, kMaxHelloBytes);
  // Before a handoff the watch lets go of the connection: its shutdown
  // would reach the worker's copy of the socket.
  auto release_watch = [&] {
    bool expired = watch && deadlines_.Disarm(watch);
    watch = 0;
    return !expired;
  };

  bool became_session = false;
  const wire::Message* message = s.ok() ? VerifiedMessage(hello) : nullptr;
  const wire::Hello* hello_body = message ? message->request_as_Hello() : nullptr;
  if (!s.ok()) {
    spdlog::warn("connection from {} dropped before its handshake: {}", peer, s.message());
  } else if (!hello_body || header.bulk_bytes) {
    spdlog::warn("connection from {} dropped: its first message is not a valid Hello", peer);
  } else if (IsTlsPreamble(*hello_body)) {
    s = IntakeTls(*connection, *message, hello, address, deadline, release_watch, &became_session);
    if (!s.ok()) spdlog::warn("TLS connection from {} ended before its session: {}", peer, s.message());
  } else if (std::string why; RefusesPlaintext(*connection, address, &why)) {
    spdlog::warn("plaintext connection from {} refused: {}", peer, why);
    Refuse(*connection, message->id(), why);  // bounded by the watch
  } else if (const auto* key = hello_body->attach_key(); key && key->size()) {
    s = release_watch() ? Attach(*connection, key->str(), hello) : Status::Unavailable("handshake timed out");
    if (!s.ok()) spdlog::warn("host channel from {} refused: {}", peer, s.message());
  } else if (std::string why = NoSuchGpu(hello_body->gpu()); !why.empty()) {
    // Checked before anything is kept for that GPU (warm workers).
    spdlog::warn("session from {} refused: {}", peer, why);
    Refuse(*connection, message->id(), why);  // bounded by the watch
  } else {
    s = release_watch() ? Dispatch(*connection, hello_body->gpu(), hello, address, &became_session)
                        : Status::Unavailable("handshake timed out");
    if (!s.ok()) spdlog::error("session from {} could not start: {}", peer, s.message());
  }
  release_watch();
  std::lock_guard lock(mu_);
  admission_.HandshakeDone(address, became_session);
  --intakes_;
  cv_.notify_all();
}

Status Daemon::Refuse(Connection& connection, uint64_t id, const std::string& why) {
  return WriteHelloRefusal(connection, id, why);
}

Status Daemon::Dispatch(Connection& connection, int gpu, std::span<const uint8_t> hello, const std::string& address,
                        bool* counted, bool tls) {
  *counted = false;
  // A lease released early (its tokens revoked) gets no new session.
  std::string lease = LeaseOf(hello);
  if (revocations_) revocations_->Refresh();
  if (revocations_ && revocations_->IsRevoked(lease)) return Status::InvalidValue("lease " + lease + " was released");
  Worker worker;
  RCUDA_RETURN_IF_ERROR(TakeWorker(gpu, &worker));
  std::string key = RandomKey();
  // A TLS client's raw socket: the worker does the handshake (kTlsTransportName).
  const std::string kind = tls ? std::string(kTlsTransportName) : HandoffKind(connection, hello);
  // The lease's memory is counted across all its sessions on this GPU.
  std::string account = lease.empty() ? "" : lease + "/" + std::to_string(gpu);
  int lease_fd = -1, lease_slot = -1;
  Status s;
  {
    // Registered before the handoff, so that the reaper accounts for the
    // worker (and its lease slot) however soon it ends.
    std::lock_guard lock(mu_);
    if (!account.empty()) s = TakeLeaseSlot(account, &lease_fd, &lease_slot);
    if (s.ok()) {
      Session& session = sessions_[worker.pid] =
          Session{++next_session_, gpu, worker.pid, connection.PeerName(), NowUnixSeconds(),
                  worker.control_fd, key, lease, address, account, lease_slot};
      session.transport = kind;
      session.tls = tls;
      if (tls) session.route = AttachRoute(key);
    }
  }
  // A TLS session's worker answers on its control socket: a copy of it
  // that the reaper cannot close under us.
  int report = -1;
  if (s.ok() && tls && (report = fcntl(worker.control_fd, F_DUPFD_CLOEXEC, 0)) < 0) {
    s = Status::IoError(std::string("dup: ") + std::strerror(errno));
  }
  if (s.ok()) {
    Handoff handoff{kind, connection.HandoffHandles(), key, std::vector<uint8_t>(hello.begin(), hello.end())};
    handoff.lease_fd = lease_fd;
    handoff.lease_slot = lease_slot;
    s = SendSession(worker.control_fd, handoff);
  }
  if (s.ok() && tls) {
    bool refused = false;
    s = JudgeTlsSession(worker.pid, report, gpu, &refused);
    close(report);
    if (refused) return s;  // the worker tells its client why and ends; the reaper forgets it
  } else if (report >= 0) {
    close(report);
  }
  if (!s.ok()) {
    // Unless the reaper got there first (the worker ended: a TLS handshake
    // that failed), in which case its descriptor is closed and its pid no
    // longer its own.
    bool ours = false;
    {
      std::lock_guard lock(mu_);
      ours = sessions_.erase(worker.pid) > 0;
      if (ours && lease_slot >= 0) ReleaseLeaseSlot(account, lease_slot);
    }
    if (ours) {
      close(worker.control_fd);
      kill(worker.pid, SIGTERM);
    }
    return s;
  }
  {
    std::lock_guard lock(mu_);
    warm_failures_.erase(gpu);
    // The reaper counts the session's end against its address from now on
    // (unless its worker is gone already).
    if (auto it = sessions_.find(worker.pid); it != sessions_.end()) {
      it->second.handed_over = true;
      *counted = true;
      spdlog::info("session {} from {} on GPU {}: worker pid {} ({}{})", it->second.id, it->second.peer, gpu,
                   worker.pid, kind, tls ? ": TCP, over TLS" : "");
    }
  }
  WriteStatusFile();
  cv_.notify_all();  // the reaper replaces the warm worker we took
  return Status::Ok();
}

std::string Daemon::NoSuchGpu(int gpu) const {
  if (gpu >= 0 && gpu < gpu_count_) return "";
  return gpu_count_ ? "GPU " + std::to_string(gpu) + " requested, this server has " + std::to_string(gpu_count_) +
                          " (0 to " + std::to_string(gpu_count_ - 1) + ")"
                    : "this server has no usable GPU: " + gpu_count_error_;
}

Status Daemon::TakeWorker(int gpu, Worker* worker) {
  {
    std::lock_guard lock(mu_);
    if (options_.max_sessions && static_cast<int>(sessions_.size()) >= options_.max_sessions) {
      return Status::Unavailable("session limit reached");
    }
    gpus_in_use_[gpu] = true;
    auto& spares = warm_[gpu];
    if (!spares.empty()) {
      *worker = spares.back();
      spares.pop_back();
    }
  }
  if (worker->pid < 0) RCUDA_RETURN_IF_ERROR(SpawnWorker(gpu, worker));
  return Status::Ok();
}

Status Daemon::TakeLeaseSlot(const std::string& account, int* fd, int* slot) {
  LeaseAccount& a = leases_[account];
  if (a.fd < 0) {
    Status s = LeaseMemory::Create(&a.fd);
    if (s.ok()) s = LeaseMemory::Map(a.fd, &a.memory);
    if (!s.ok()) {
      leases_.erase(account);
      return s;
    }
  }
  for (int i = 0; i < LeaseMemory::kSlots; ++i) {
    if (!a.used[i]) {
      a.used[i] = true;
      a.memory->ClearSlot(i);
      *fd = a.fd;
      *slot = i;
      return Status::Ok();
    }
  }
  return Status::Unavailable("lease has " + std::to_string(LeaseMemory::kSlots) + " sessions on this GPU already");
}

void Daemon::ReleaseLeaseSlot(const std::string& account, int slot) {
  auto it = leases_.find(account);
  if (it == leases_.end() || slot < 0) return;
  // The slot's worker is gone: whatever it held, the driver freed.
  it->second.memory->ClearSlot(slot);
  it->second.used[slot] = false;
  for (bool used : it->second.used)
    if (used) return;
  leases_.erase(it);
}

// The lease a session's token names, for the status file (the worker makes
// the authoritative check).
std::string Daemon::LeaseOf(std::span<const uint8_t> hello) const {
  if (auth_key_.empty()) return "";
  const wire::Message* message = VerifiedMessage(hello);
  const wire::Hello* h = message ? message->request_as_Hello() : nullptr;
  LeaseClaims claims;
  if (!h || !h->token() || !VerifyLeaseToken(h->token()->str(), auth_key_, NowUnixSeconds(), &claims).ok()) return "";
  return claims.lease_id;
}

Status Daemon::Attach(Connection& connection, const std::string& key, std::span<const uint8_t> hello) {
  int control = -1;
  {
    std::lock_guard lock(mu_);
    for (const auto& [pid, session] : sessions_) {
      // A TLS session's key travels only inside TLS: its host channel
      // comes over TLS (AttachTls), never in the clear.
      if (session.key.size() == key.size() && KeysEqual(session.key, key) && !session.tls) {
        // A copy of the worker's control socket, valid even if the reaper
        // closes the session's meanwhile.
        control = fcntl(session.control_fd, F_DUPFD_CLOEXEC, 0);
        break;
      }
    }
  }
  if (control < 0) return Status::InvalidValue("no session with that key");
  // Never under mu_, and never for long: a worker that stopped taking
  // connections must not stop the daemon's other sessions.
  Status s = SendSession(control, Handoff{HandoffKind(connection, hello), connection.HandoffHandles(), "",
                                          std::vector<uint8_t>(hello.begin(), hello.end())});
  close(control);
  return s;
}

Status Daemon::CountGpus() {
  if (options_.executor.backend == "test") return CountDevices(options_.executor, &gpu_count_);
  // The CUDA driver is initialized in a child: the daemon forks its workers
  // and must not hold a driver itself.
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return Status::IoError(std::string("pipe: ") + std::strerror(errno));
  std::vector<std::string> args = {"rcuda-server", "--count-gpus", "--backend", options_.executor.backend,
                                   "--log-level", options_.log_level};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) {
    close(out[0]);
    close(out[1]);
    return Status::IoError(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    dup2(out[1], 1);  // dup2 clears close-on-exec on the copy
    execv("/proc/self/exe", argv.data());
    _exit(127);
  }
  close(out[1]);
  std::string text;
  char buf[256];
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{out[0], POLLIN, 0};
    if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0) {
      kill(pid, SIGKILL);
      break;
    }
    ssize_t n = read(out[0], buf, sizeof buf);
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  close(out[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || text.empty()) {
    return Status::Unavailable(text.empty() ? "counting the GPUs failed (" + DescribeExit(status) + ")" : text);
  }
  gpu_count_ = std::atoi(text.c_str());
  return Status::Ok();
}

Status Daemon::SpawnWorker(int gpu, Worker* worker) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) {
    return Status::IoError(std::string("socketpair: ") + std::strerror(errno));
  }
  // Everything the child needs is prepared before fork: between fork and
  // exec only async-signal-safe calls are allowed in a threaded process.
  std::vector<std::string> args = {"rcuda-server",
                                   "--worker-control-fd", std::to_string(fds[1]),
                                   "--worker-gpu", std::to_string(gpu),
                                   "--backend", options_.executor.backend,
                                   "--port", std::to_string(options_.port),
                                   "--log-level", options_.log_level,
                                   "--test-memory", std::to_string(options_.executor.test_memory_bytes),
                                   "--session-idle-timeout", std::to_string(options_.session_idle_timeout.count()),
                                   "--session-host-staging", std::to_string(options_.executor.host_staging_bytes),
                                   "--session-pinned-bytes", std::to_string(options_.session_pinned_bytes),
                                   "--session-device-output-kib",
                                   std::to_string(options_.session_device_output_kib),
                                   "--tcp-streams", std::to_string(options_.tcp_streams)};
  for (const auto& plugin : options_.executor.test_kernel_plugins) {
    args.push_back("--test-kernels");
    args.push_back(plugin);
  }
  if (!options_.auth_key_file.empty()) {
    args.push_back("--auth-key-file");
    args.push_back(options_.auth_key_file);
  }
  if (!options_.node_name.empty()) {
    args.push_back("--node-name");
    args.push_back(options_.node_name);
  }
  if (std::string prepare = TransportsToPrepare(); !prepare.empty()) {
    args.push_back("--worker-prepare");
    args.push_back(prepare);
  }
  // The worker does the TLS handshakes of its session (daemon_tls.cc).
  for (const auto& [flag, value] : {std::pair{"--tls-cert", &options_.tls.certificate_file},
                                    std::pair{"--tls-key", &options_.tls.key_file},
                                    std::pair{"--tls-client-ca", &options_.tls.client_ca_file}}) {
    if (value->empty()) continue;
    args.push_back(flag);
    args.push_back(*value);
  }
  args.push_back("--handshake-timeout");
  args.push_back(std::to_string(std::max<int64_t>(1, options_.hello_timeout.count() / 1000)));
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return Status::IoError(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    // Only the control socket goes to the worker: a copy of another
    // client's socket kept open here would hide that client's session end
    // from it. (The worker notices its daemon's end through the control
    // socket too, which is why there is no PR_SET_PDEATHSIG: that fires when
    // the forking *thread* ends, and intake threads end at once.)
    int keep = fds[1];
    if (keep > 3) syscall(SYS_close_range, 3u, static_cast<unsigned>(keep - 1), 0u);
    syscall(SYS_close_range, static_cast<unsigned>(keep + 1), ~0u, 0u);
    fcntl(keep, F_SETFD, 0);  // keep the control socket across exec
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, nullptr);
    execv("/proc/self/exe", argv.data());
    _exit(127);
  }
  close(fds[1]);
  worker->pid = pid;
  worker->control_fd = fds[0];
  worker->gpu = gpu;
  return Status::Ok();
}

void Daemon::KeepWarm() {
  std::vector<int> needed;
  {
    std::lock_guard lock(mu_);
    auto now = std::chrono::steady_clock::now();
    for (auto& [gpu, in_use] : gpus_in_use_) {
      if (auto after = spawn_after_.find(gpu); after != spawn_after_.end() && now < after->second) continue;
      int have = static_cast<int>(warm_[gpu].size());
      for (int i = have; i < options_.warm_workers; ++i) needed.push_back(gpu);
    }
  }
  for (int gpu : needed) {
    Worker w;
    Status s = SpawnWorker(gpu, &w);
    if (!s.ok()) {
      spdlog::error("cannot start a warm worker for GPU {}: {}", gpu, s.message());
      continue;
    }
    std::lock_guard lock(mu_);
    warm_[gpu].push_back(w);
  }
}

void Daemon::ReapLoop() {
  while (true) {
    if (!stopping_) KeepWarm();
    bool changed = false;
    int status;
    pid_t pid;
    if (revocations_) {  // a released lease's sessions end at once
      revocations_->Refresh();
      std::lock_guard lock(mu_);
      for (const auto& [worker_pid, s] : sessions_) {
        if (!revocations_->ShouldEnd(worker_pid, s.lease)) continue;
        spdlog::warn("session {}: lease {} was released; ending its worker {}", s.id, s.lease, worker_pid);
        kill(worker_pid, SIGKILL);
      }
    }
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
      std::lock_guard lock(mu_);
      if (revocations_) revocations_->SessionEnded(pid);
      auto it = sessions_.find(pid);
      if (it != sessions_.end()) {
        spdlog::info("session {} ended (worker pid {}, {})", it->second.id, pid, DescribeExit(status));
        close(it->second.control_fd);
        if (it->second.handed_over) admission_.SessionEnded(it->second.address);
        if (!it->second.lease_account.empty()) ReleaseLeaseSlot(it->second.lease_account, it->second.lease_slot);
        sessions_.erase(it);
        changed = true;
        continue;
      }
      // A warm worker that died before serving (e.g. the GPU failed to open
      // and it exited, or someone killed it): forget it; KeepWarm replaces it.
      for (auto& [gpu, workers] : warm_) {
        for (size_t i = 0; i < workers.size(); ++i) {
          if (workers[i].pid == pid) {
            spdlog::warn("warm worker pid {} for GPU {} exited ({})", pid, gpu, DescribeExit(status));
            close(workers[i].control_fd);
            workers.erase(workers.begin() + i);
            // Replaced after 0.1 s, then 0.2, 0.4, ... up to 30 s while
            // they keep failing.
            int failures = std::min(++warm_failures_[gpu], 9);
            spawn_after_[gpu] = std::chrono::steady_clock::now() +
                                std::min<std::chrono::milliseconds>(std::chrono::milliseconds(100 << (failures - 1)),
                                                                    std::chrono::seconds(30));
            break;
          }
        }
      }
    }
    {
      std::lock_guard lock(mu_);
      changed |= CollectTransportReports();
    }
    if (changed) WriteStatusFile();
    std::unique_lock lock(mu_);
    if (stopping_ && sessions_.empty() && intakes_ == 0) {
      bool warm_left = false;
      for (auto& [gpu, workers] : warm_) warm_left |= !workers.empty();
      if (!warm_left) break;
    }
    cv_.wait_for(lock, std::chrono::milliseconds(100));
    if (stopping_) {
      // Give workers a moment to exit after SIGTERM, then stop waiting.
      static auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      if (std::chrono::steady_clock::now() > deadline) break;
    }
  }
}

void Daemon::WriteStatusFile() {
  if (options_.status_file.empty()) return;
  // Under the lock, so that concurrent updates cannot interleave their files.
  std::lock_guard lock(mu_);
  ServerStatusFile status;
  status.server_pid = getpid();
  status.port = options_.port;
  status.backend = options_.executor.backend;
  for (const auto& [pid, s] : sessions_) {
    status.sessions.push_back({.id = int64_t(s.id), .gpu = s.gpu, .worker_pid = pid, .peer = s.peer,
                               .lease = s.lease, .started_unix = s.started_unix, .transport = s.transport,
                               .transport_detail = s.transport_detail});
  }
  if (Status s = WriteServerStatusFile(options_.status_file, status); !s.ok()) spdlog::warn("{}", s.message());
}

}  // namespace rcuda
