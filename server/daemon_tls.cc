// The daemon's part in TLS sessions (docs/design.md, "TLS"). A TLS session
// must end up in a worker process, and OpenSSL's state cannot move between
// processes (kernel TLS could carry it, but is not there everywhere), so the
// daemon never does TLS: it reads the client's plaintext preamble (GPU, or
// a host channel's route; nothing secret), checks that a ClientHello
// follows, and hands the raw socket to the worker, which does the handshake
// and reads the real Hello inside TLS. The worker then sends that Hello back
// here, where the lease it names is judged and accounted as a plaintext
// session's is (JudgeTlsSession).
#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>

#include "common/env.h"
#include "protocol/frame.h"
#include "protocol/tls/tls_preamble.h"
#include "protocol/tls/tls_server.h"
#include "server/daemon.h"
#include "server/fd_passing.h"
#include "server/tls_handoff.h"

namespace rcuda {
namespace {

using Clock = std::chrono::steady_clock;

// "ip 127.0.0.1", "ip ::1", "ip ::ffff:127.0.0.1" (PeerAddress).
bool IsLoopbackAddress(const std::string& address) {
  if (address.rfind("ip ", 0) != 0) return false;
  std::string ip = address.substr(3);
  in_addr v4{};
  if (inet_pton(AF_INET, ip.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, ip.c_str(), &v6) != 1) return false;
  if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
  return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
}

}  // namespace

Status Daemon::PrepareTls() {
  const TlsServerOptions& tls = options_.tls;
  if (tls.certificate_file.empty() && tls.key_file.empty()) {
    if (!tls.client_ca_file.empty()) return Status::InvalidValue("--tls-client-ca needs --tls-cert and --tls-key");
    if (options_.require_tls != DaemonOptions::RequireTls::kOff) {
      return Status::InvalidValue("--require-tls needs --tls-cert and --tls-key");
    }
    return Status::Ok();
  }
  // Loaded once here so that a bad file stops the start; each worker loads
  // its own copy for its handshakes.
  std::shared_ptr<const TlsContext> context;
  RCUDA_RETURN_IF_ERROR(TlsContext::ForServer(tls, &context));
  tls_offered_ = true;
  spdlog::info("TLS offered on the TCP port (certificate {}{})", tls.certificate_file,
               tls.client_ca_file.empty() ? ""
                                          : "; clients need a certificate signed by a CA of " + tls.client_ca_file);
  switch (options_.require_tls) {
    case DaemonOptions::RequireTls::kOff:
      spdlog::warn("plaintext TCP clients are accepted too (--require-tls refuses them)");
      break;
    case DaemonOptions::RequireTls::kRemote:
      spdlog::info("plaintext TCP clients are refused unless they are on this host (loopback)");
      break;
    case DaemonOptions::RequireTls::kAll:
      spdlog::info("plaintext TCP clients are refused");
      break;
  }
  return Status::Ok();
}

bool Daemon::RefusesPlaintext(const Connection& connection, const std::string& address, std::string* why) const {
  using RequireTls = DaemonOptions::RequireTls;
  if (options_.require_tls == RequireTls::kOff || connection.Kind() != "tcp") return false;
  if (options_.require_tls == RequireTls::kRemote && IsLoopbackAddress(address)) return false;
  *why = std::string("this server requires TLS") +
         (options_.require_tls == RequireTls::kRemote ? " from clients on other hosts" : "") +
         ": set RCUDA_TLS=1 and RCUDA_TLS_CA to the CA file that signed its certificate (or name the device "
         "tls://host@port:gpu)";
  return true;
}

void Daemon::RefuseTls(Connection& connection, uint64_t id, const std::string& why, Clock::time_point deadline) {
  if (!Refuse(connection, id, why).ok()) return;
  int fd = connection.NativeHandle();
  ::shutdown(fd, SHUT_WR);
  char sink[4096];
  size_t drained = 0;
  while (drained < (1u << 20)) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    int ready = poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    ssize_t n = recv(fd, sink, sizeof sink, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) break;
    if (n > 0) drained += static_cast<size_t>(n);
  }
}

Status Daemon::IntakeTls(Connection& connection, const wire::Message& preamble, std::span<const uint8_t> bytes,
                         const std::string& address, Clock::time_point deadline,
                         const std::function<bool()>& release_watch, bool* counted) {
  const wire::Hello& hello = *preamble.request_as_Hello();
  auto refuse = [&](const std::string& why) {
    RefuseTls(connection, preamble.id(), why, deadline);
    return Status::Unavailable("refused: " + why);
  };
  if (!tls_offered_) return refuse("this server does not offer TLS (it was started without --tls-cert and --tls-key)");
  if (connection.Kind() != "tcp") return refuse("TLS is offered on the TCP port only");
  if ((hello.token() && hello.token()->size()) || (hello.attach_key() && hello.attach_key()->size())) {
    return refuse("a TLS preamble must not carry a token or an attach key: they would cross the network in the clear");
  }
  const bool attach = hello.attach_route() && hello.attach_route()->size();
  if (!attach) {
    if (std::string why = NoSuchGpu(hello.gpu()); !why.empty()) return refuse(why);
    std::lock_guard lock(mu_);
    if (options_.max_sessions && static_cast<int>(sessions_.size()) >= options_.max_sessions) {
      return refuse("session limit reached (--max-sessions)");
    }
  }
  // Garbage, silence or an end instead of a ClientHello never reaches a
  // worker (the watch bounds the wait too).
  RCUDA_RETURN_IF_ERROR(AwaitClientHello(connection.NativeHandle(), deadline));
  if (attach) return AttachTls(connection, preamble, bytes, deadline, release_watch);
  if (!release_watch()) return Status::Unavailable("handshake timed out");
  return Dispatch(connection, hello.gpu(), bytes, address, counted, /*tls=*/true);
}

Status Daemon::JudgeTlsSession(pid_t worker, int report_fd, int gpu, bool* refused) {
  *refused = false;
  // The worker has --handshake-timeout from the handoff for the TLS
  // handshake and the Hello; it ends itself when they fail, and says why.
  // This deadline is only the backstop for a worker that hangs: generous,
  // since the worker's own clock starts only once it has started (a cold
  // worker on a loaded node, or a sanitized one, takes seconds), and a
  // backstop that fired first would kill it before it could say why.
  std::vector<uint8_t> hello;
  RCUDA_RETURN_IF_ERROR(ReceiveTlsHello(report_fd, Clock::now() + 2 * options_.hello_timeout + std::chrono::seconds(10),
                                        &hello));
  const wire::Message* message = VerifiedMessage(hello);
  const wire::Hello* h = message ? message->request_as_Hello() : nullptr;
  TlsVerdict verdict;
  std::string lease;
  if (!h) {
    verdict.refusal = "the first message inside TLS is not a valid Hello";
  } else if (h->attach_key() && h->attach_key()->size()) {
    verdict.refusal = "a host channel's Hello after a session's preamble";
  } else if (h->gpu() != gpu) {
    verdict.refusal = "the Hello asks for GPU " + std::to_string(h->gpu()) + ", its preamble for GPU " +
                      std::to_string(gpu);
  } else {
    lease = LeaseOf(hello);
    if (revocations_) revocations_->Refresh();
    if (revocations_ && revocations_->IsRevoked(lease)) verdict.refusal = "lease " + lease + " was released";
  }
  const std::string account = lease.empty() ? "" : lease + "/" + std::to_string(gpu);
  if (verdict.refusal.empty() && !account.empty()) {
    std::lock_guard lock(mu_);
    auto it = sessions_.find(worker);
    if (it == sessions_.end()) return Status::Unavailable("the session's worker ended");
    Status taken = TakeLeaseSlot(account, &verdict.lease_fd, &verdict.lease_slot);
    if (taken.ok()) {
      it->second.lease = lease;
      it->second.lease_account = account;
      it->second.lease_slot = verdict.lease_slot;
    } else {
      verdict.refusal = taken.message();
    }
  }
  Status sent = SendTlsVerdict(report_fd, verdict);
  if (!sent.ok() && verdict.lease_slot >= 0) {
    // The slot goes back here unless the reaper, seeing the worker end,
    // gave it back already.
    std::lock_guard lock(mu_);
    auto it = sessions_.find(worker);
    if (it != sessions_.end() && it->second.lease_slot >= 0) {
      ReleaseLeaseSlot(it->second.lease_account, it->second.lease_slot);
      it->second.lease_slot = -1;
      it->second.lease_account.clear();
    }
  }
  if (!verdict.refusal.empty()) {
    *refused = sent.ok();
    return Status::Unavailable("refused: " + verdict.refusal);
  }
  return sent;
}

Status Daemon::AttachTls(Connection& connection, const wire::Message& preamble, std::span<const uint8_t> bytes,
                         Clock::time_point deadline, const std::function<bool()>& release_watch) {
  const std::string route = preamble.request_as_Hello()->attach_route()->str();
  int control = -1;
  {
    std::lock_guard lock(mu_);
    for (const auto& [pid, session] : sessions_) {
      // Only once the session is its worker's: an attachment must not
      // reach the worker before the daemon's verdict on its session.
      if (session.tls && session.handed_over && session.route == route) {
        control = fcntl(session.control_fd, F_DUPFD_CLOEXEC, 0);
        break;
      }
    }
  }
  if (control < 0) {
    RefuseTls(connection, preamble.id(), "no session of this server has that host channel route", deadline);
    return Status::InvalidValue("no session with that route");
  }
  if (!release_watch()) {
    close(control);
    return Status::Unavailable("handshake timed out");
  }
  // Never under mu_, and bounded: see Attach.
  Status s = SendSession(control, Handoff{kTlsTransportName, connection.HandoffHandles(), "",
                                          std::vector<uint8_t>(bytes.begin(), bytes.end())});
  close(control);
  return s;
}

}  // namespace rcuda
