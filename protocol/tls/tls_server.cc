#include "protocol/tls/tls_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace rcuda {
namespace {

using Clock = std::chrono::steady_clock;

// A record header (type, version, length) and the handshake message's type.
constexpr int kClientHelloPrefix = 6;
constexpr uint8_t kHandshakeRecord = 22;
constexpr uint8_t kClientHello = 1;
constexpr size_t kMaxRecord = (16 << 10) + 2048;

std::string DescribePeer(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return "tls (unknown peer)";
  char text[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    return std::string("tls ") + text + ":" + std::to_string(ntohs(in->sin_port));
  }
  if (addr.ss_family == AF_INET6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
    return std::string("tls [") + text + "]:" + std::to_string(ntohs(in6->sin6_port));
  }
  return "tls (unknown peer)";
}

}  // namespace

Status AwaitClientHello(int fd, Clock::time_point deadline) {
  // poll() wakes only once the whole prefix is there (or the stream ends),
  // however the peer trickles it.
  int low = kClientHelloPrefix;
  setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &low, sizeof low);
  uint8_t prefix[kClientHelloPrefix];
  ssize_t n = 0;
  Status s;
  while (true) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      s = Status::Unavailable("no TLS ClientHello before the handshake deadline");
      break;
    }
    pollfd p{fd, POLLIN, 0};
    int ready = poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR) {
      s = Status::IoError(std::string("poll: ") + std::strerror(errno));
      break;
    }
    if (ready <= 0) continue;
    n = recv(fd, prefix, sizeof prefix, MSG_PEEK | MSG_DONTWAIT);
    if (n == kClientHelloPrefix) break;
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      s = Status::IoError("the peer left before its TLS ClientHello");
      break;
    }
    if (n > 0 && (p.revents & (POLLHUP | POLLRDHUP))) {
      s = Status::IoError("the peer left in the middle of its TLS ClientHello");
      break;
    }
  }
  low = 1;
  setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &low, sizeof low);
  RCUDA_RETURN_IF_ERROR(s);
  size_t length = (size_t{prefix[3]} << 8) | prefix[4];
  if (prefix[0] != kHandshakeRecord || prefix[1] != 3 || prefix[2] > 4 || length == 0 || length > kMaxRecord ||
      prefix[5] != kClientHello) {
    return Status::Corruption("what follows the TLS preamble is not a TLS ClientHello");
  }
  return Status::Ok();
}

Status TlsAccept(int fd, std::shared_ptr<const TlsContext> context, Clock::time_point deadline,
                 std::unique_ptr<TlsConnection>* connection) {
  auto tls = std::make_unique<TlsConnection>(fd, std::move(context), DescribePeer(fd));
  RCUDA_RETURN_IF_ERROR(tls->Init());
  RCUDA_RETURN_IF_ERROR(tls->Accept(deadline));
  *connection = std::move(tls);
  return Status::Ok();
}

}  // namespace rcuda
