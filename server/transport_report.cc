#include "server/transport_report.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace rcuda {
namespace {

constexpr char kMagic[4] = {'R', 'C', 'T', 'R'};

}  // namespace

Status SendTransportReport(int control_fd, const std::string& detail) {
  std::string message(kMagic, sizeof kMagic);
  message += detail.substr(0, kMaxTransportReportBytes);
  // A SOCK_SEQPACKET socket: the message goes whole or not at all.
  if (send(control_fd, message.data(), message.size(), MSG_NOSIGNAL | MSG_DONTWAIT) !=
      static_cast<ssize_t>(message.size())) {
    return Status::IoError(std::string("reporting the transport to the daemon: ") + std::strerror(errno));
  }
  return Status::Ok();
}

bool TakeTransportReport(int control_fd, std::string* detail) {
  char buffer[sizeof kMagic + kMaxTransportReportBytes];
  // Looked at first, taken only if it is a report: any other message on
  // the control socket stays for its own reader (tls_handoff.h).
  ssize_t n = recv(control_fd, buffer, sizeof buffer, MSG_DONTWAIT | MSG_PEEK);
  if (n < static_cast<ssize_t>(sizeof kMagic) || std::memcmp(buffer, kMagic, sizeof kMagic) != 0) return false;
  n = recv(control_fd, buffer, sizeof buffer, MSG_DONTWAIT);
  if (n < static_cast<ssize_t>(sizeof kMagic)) return false;
  detail->clear();
  for (ssize_t i = sizeof kMagic; i < n; ++i) {
    char c = buffer[i];
    detail->push_back(c >= 0x20 && c < 0x7f ? c : '?');
  }
  return true;
}

}  // namespace rcuda
