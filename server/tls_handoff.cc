#include "server/tls_handoff.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "protocol/fd_message.h"

namespace rcuda {
namespace {

using Clock = std::chrono::steady_clock;

constexpr uint8_t kHelloTag = 'H';
constexpr uint8_t kVerdictTag = 'V';
constexpr size_t kMaxRefusal = 4 << 10;

// Sends one datagram of the SOCK_SEQPACKET control socket, with `fd`
// attached when it is not -1.
Status SendMessage(int control_fd, const std::vector<uint8_t>& payload, int fd) {
  std::span<const int> fds = fd >= 0 ? std::span<const int>(&fd, 1) : std::span<const int>();
  ssize_t n = SendWithFds(control_fd, payload.data(), payload.size(), fds);
  if (n != static_cast<ssize_t>(payload.size())) {
    return Status::IoError(std::string("control socket: ") + std::strerror(n < 0 ? errno : EMSGSIZE));
  }
  return Status::Ok();
}

// Receives one datagram before `deadline`; *fd is the descriptor it
// carried, or -1.
Status ReceiveMessage(int control_fd, Clock::time_point deadline, size_t max_bytes, std::vector<uint8_t>* payload,
                      int* fd) {
  *fd = -1;
  while (true) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return Status::Unavailable("timed out");
    pollfd p{control_fd, POLLIN, 0};
    int ready = poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR) return Status::IoError(std::string("poll: ") + std::strerror(errno));
    if (ready > 0) break;
  }
  payload->resize(max_bytes + 1);
  ReceivedMessage r = ReceiveWithFds(control_fd, payload->data(), payload->size(), MSG_DONTWAIT);
  const ssize_t n = r.bytes;
  if (n == 0) {
    r.CloseFds();
    return Status::IoError("the other end closed the control socket");
  }
  if (n < 0) return Status::IoError(std::string("control socket: ") + std::strerror(errno));
  // The first descriptor is the one the message carries; any other is closed.
  if (!r.fds.empty()) {
    *fd = r.fds[0];
    for (size_t i = 1; i < r.fds.size(); ++i) close(r.fds[i]);
  }
  payload->resize(static_cast<size_t>(n));
  if (static_cast<size_t>(n) > max_bytes || r.truncated) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
    return Status::IoError("oversized message on the control socket");
  }
  return Status::Ok();
}

}  // namespace

Status SendTlsHello(int control_fd, std::span<const uint8_t> hello) {
  if (hello.size() > kMaxTlsHelloBytes) return Status::InvalidValue("Hello too large");
  std::vector<uint8_t> payload{kHelloTag};
  payload.insert(payload.end(), hello.begin(), hello.end());
  return SendMessage(control_fd, payload, -1);
}

Status ReceiveTlsHello(int control_fd, Clock::time_point deadline, std::vector<uint8_t>* hello) {
  std::vector<uint8_t> payload;
  int fd = -1;
  Status s = ReceiveMessage(control_fd, deadline, 1 + kMaxTlsHelloBytes, &payload, &fd);
  if (fd >= 0) close(fd);
  if (!s.ok() && s.message().find("closed") != std::string::npos) {
    return Status::Unavailable("the worker ended before its TLS handshake gave a Hello (its log says why)");
  }
  if (!s.ok()) return Status::Unavailable("no Hello from the worker's TLS handshake: " + s.message());
  if (payload.empty() || payload[0] != kHelloTag) return Status::IoError("unexpected message from the worker");
  hello->assign(payload.begin() + 1, payload.end());
  return Status::Ok();
}

Status SendTlsVerdict(int control_fd, const TlsVerdict& verdict) {
  std::vector<uint8_t> payload{kVerdictTag};
  int32_t slot = verdict.lease_fd >= 0 ? verdict.lease_slot : -1;
  const auto* s = reinterpret_cast<const uint8_t*>(&slot);
  payload.insert(payload.end(), s, s + sizeof slot);
  std::string refusal = verdict.refusal.substr(0, kMaxRefusal);
  payload.insert(payload.end(), refusal.begin(), refusal.end());
  return SendMessage(control_fd, payload, verdict.lease_fd);
}

Status ReceiveTlsVerdict(int control_fd, Clock::time_point deadline, TlsVerdict* verdict) {
  std::vector<uint8_t> payload;
  int fd = -1;
  RCUDA_RETURN_IF_ERROR(ReceiveMessage(control_fd, deadline, 1 + sizeof(int32_t) + kMaxRefusal, &payload, &fd));
  int32_t slot = -1;
  if (payload.size() < 1 + sizeof slot || payload[0] != kVerdictTag) {
    if (fd >= 0) close(fd);
    return Status::IoError("unexpected message from the daemon");
  }
  std::memcpy(&slot, payload.data() + 1, sizeof slot);
  verdict->refusal.assign(payload.begin() + 1 + sizeof slot, payload.end());
  if ((slot >= 0) != (fd >= 0)) {
    if (fd >= 0) close(fd);
    return Status::IoError("malformed verdict from the daemon");
  }
  verdict->lease_fd = fd;
  verdict->lease_slot = slot;
  return Status::Ok();
}

}  // namespace rcuda
