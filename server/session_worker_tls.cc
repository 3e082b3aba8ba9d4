#include "server/session_worker_tls.h"

#include <unistd.h>

#include <spdlog/spdlog.h>

#include "protocol/frame.h"
#include "protocol/tls/tls_server.h"
#include "server/hello_refusal.h"
#include "server/tls_handoff.h"

namespace rcuda {
namespace {

using Clock = std::chrono::steady_clock;

// The handshake on the one socket of `handoff` (taken from it).
Status Handshake(const SessionPolicy& policy, Handoff* handoff, Clock::time_point deadline,
                 std::unique_ptr<TlsConnection>* tls) {
  std::vector<int> fds = std::move(handoff->fds);
  handoff->fds.clear();
  if (fds.size() != 1 || !policy.tls) {
    for (int fd : fds) close(fd);
    return Status::Unavailable(policy.tls ? "a TLS handoff without its socket"
                                          : "this worker has no TLS certificate (--tls-cert)");
  }
  return TlsAccept(fds[0], policy.tls, deadline, tls);
}

// The first frame inside TLS: a Hello, small, without bulk.
Status ReadHello(TlsConnection& tls, Clock::time_point deadline, std::vector<uint8_t>* hello) {
  tls.SetDeadline(deadline);
  FrameHeader header;
  Status s = ReadFrame(tls, &header, hello, nullptr, kMaxTlsHelloBytes);
  tls.SetDeadline(std::nullopt);
  if (!s.ok()) return Status::Unavailable("no Hello inside TLS: " + s.message());
  const wire::Message* message = VerifiedMessage(*hello);
  if (!message || !message->request_as_Hello() || header.bulk_bytes) {
    return Status::Corruption("the first message inside TLS from " + tls.PeerName() + " is not a valid Hello");
  }
  return Status::Ok();
}

void LogNegotiated(const TlsConnection& tls, const char* what) {
  std::string subject = tls.PeerCertificateSubject();
  spdlog::info("{} from {}: {}{}", what, tls.PeerName(), tls.Negotiated(),
               subject.empty() ? "" : ", client certificate " + subject);
}

}  // namespace

Status StartTlsSession(const SessionPolicy& policy, int control_fd, Handoff* handoff,
                       std::unique_ptr<Connection>* connection) {
  const auto deadline = Clock::now() + policy.handshake_timeout;
  std::unique_ptr<TlsConnection> tls;
  RCUDA_RETURN_IF_ERROR(Handshake(policy, handoff, deadline, &tls));
  std::vector<uint8_t> hello;
  RCUDA_RETURN_IF_ERROR(ReadHello(*tls, deadline, &hello));
  LogNegotiated(*tls, "TLS session");
  // The daemon judges the Hello (the lease in its token) as it judges a
  // plaintext one, and gives the lease's memory account.
  RCUDA_RETURN_IF_ERROR(SendTlsHello(control_fd, hello));
  TlsVerdict verdict;
  Status s = ReceiveTlsVerdict(control_fd, deadline + std::chrono::seconds(5), &verdict);
  if (!s.ok()) return Status::Unavailable("no verdict from the daemon: " + s.message());
  if (!verdict.refusal.empty()) {
    (void)WriteHelloRefusal(*tls, VerifiedMessage(hello)->id(), verdict.refusal);
    return Status::Unavailable("session refused by the daemon: " + verdict.refusal);
  }
  handoff->hello = std::move(hello);
  handoff->lease_fd = verdict.lease_fd;
  handoff->lease_slot = verdict.lease_slot;
  *connection = std::move(tls);
  return Status::Ok();
}

Status AcceptTlsChannel(const SessionPolicy& policy, Handoff* handoff, std::unique_ptr<Connection>* connection) {
  const auto deadline = Clock::now() + policy.handshake_timeout;
  std::unique_ptr<TlsConnection> tls;
  RCUDA_RETURN_IF_ERROR(Handshake(policy, handoff, deadline, &tls));
  RCUDA_RETURN_IF_ERROR(ReadHello(*tls, deadline, &handoff->hello));
  LogNegotiated(*tls, "TLS host channel");
  *connection = std::move(tls);
  return Status::Ok();
}

}  // namespace rcuda
