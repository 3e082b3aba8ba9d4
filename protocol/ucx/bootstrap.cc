#include "protocol/ucx/bootstrap.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace rcuda::ucx {
namespace {

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

// Milliseconds left until `deadline`, for poll(2): -1 for none.
int MillisLeft(Deadline deadline) {
  if (deadline == Deadline::max()) return -1;
  auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<int64_t>(left, 1 << 30));
}

std::string Describe(const sockaddr* sa) {
  char host[INET6_ADDRSTRLEN] = "?";
  uint16_t port = 0;
  if (sa->sa_family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    port = ntohs(in->sin_port);
    return std::string(host) + ":" + std::to_string(port);
  }
  if (sa->sa_family == AF_INET6) {
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
    port = ntohs(in6->sin6_port);
    return "[" + std::string(host) + "]:" + std::to_string(port);
  }
  return "(unknown peer)";
}

// Connects `fd` (non-blocking) to `ai` within the deadline.
Status ConnectOne(int fd, const addrinfo* ai, Deadline deadline) {
  if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) return Status::Ok();
  if (errno != EINPROGRESS) return Status::Unavailable(Errno("connect"));
  pollfd pfd{fd, POLLOUT, 0};
  int n;
  do {
    n = poll(&pfd, 1, MillisLeft(deadline));
  } while (n < 0 && errno == EINTR);
  if (n == 0) return Status::Unavailable("timed out");
  int error = 0;
  socklen_t len = sizeof error;
  if (n < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0) return Status::Unavailable(Errno("connect"));
  if (error) return Status::Unavailable(std::strerror(error));
  return Status::Ok();
}

}  // namespace

void TuneBootstrapSocket(int fd) {
  int one = 1, idle = 10, interval = 2, count = 5;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
}

Status BootstrapListen(const std::string& address, uint16_t port, int* fd) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
  addrinfo* list = nullptr;
  if (int rc = getaddrinfo(address.c_str(), std::to_string(port).c_str(), &hints, &list); rc != 0) {
    return Status::InvalidValue("bad listen address '" + address + "': " + gai_strerror(rc));
  }
  int s = socket(list->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  Status st;
  if (s < 0) {
    st = Status::Unavailable(Errno("socket"));
  } else if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
             bind(s, list->ai_addr, list->ai_addrlen) != 0 || listen(s, SOMAXCONN) != 0) {
    st = Status::Unavailable(Errno("cannot listen on " + address + ":" + std::to_string(port)));
    close(s);
  }
  freeaddrinfo(list);
  if (st.ok()) *fd = s;
  return st;
}

uint16_t BoundPort(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  if (addr.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  return 0;
}

Status BootstrapConnect(const std::string& host, uint16_t port, std::chrono::milliseconds timeout, int* fd,
                        std::string* peer) {
  const Deadline deadline = std::chrono::steady_clock::now() + timeout;
  const std::string where = host + ":" + std::to_string(port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* list = nullptr;
  if (int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &list); rc != 0) {
    return Status::Unavailable("cannot resolve " + host + ": " + gai_strerror(rc));
  }
  Status st = Status::Unavailable("cannot connect to " + where + ": no address");
  for (const addrinfo* ai = list; ai; ai = ai->ai_next) {
    int s = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s < 0) {
      st = Status::Unavailable(Errno("socket"));
      continue;
    }
    st = ConnectOne(s, ai, deadline);
    if (st.ok()) {
      fcntl(s, F_SETFL, fcntl(s, F_GETFL) & ~O_NONBLOCK);
      TuneBootstrapSocket(s);
      *fd = s;
      *peer = Describe(ai->ai_addr);
      break;
    }
    close(s);
    st = Status::Unavailable("cannot connect to " + where + ": " + st.message());
  }
  freeaddrinfo(list);
  return st;
}

std::string SocketPeerName(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return "(unknown peer)";
  return Describe(reinterpret_cast<sockaddr*>(&addr));
}

Status SendAll(int fd, const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size) {
    ssize_t n = send(fd, p, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status::IoError(Errno("send"));
    p += n;
    size -= n;
  }
  return Status::Ok();
}

Status ReceiveExact(int fd, void* data, size_t size, Deadline deadline) {
  char* p = static_cast<char*>(data);
  while (size) {
    pollfd pfd{fd, POLLIN, 0};
    int ready = poll(&pfd, 1, MillisLeft(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return Status::IoError(Errno("poll"));
    if (ready == 0) return Status::IoError("timed out");
    ssize_t n = recv(fd, p, size, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n == 0) return Status::IoError("connection closed");
    if (n < 0) return Status::IoError(Errno("recv"));
    p += n;
    size -= n;
  }
  return Status::Ok();
}

Status SendUpgrade(int fd, const Upgrade& upgrade) {
  std::vector<uint8_t> message(20 + upgrade.address.size());
  const uint32_t magic = kUpgradeMagic, version = kUpgradeVersion;
  const uint32_t bytes = static_cast<uint32_t>(upgrade.address.size());
  std::memcpy(message.data(), &magic, 4);
  std::memcpy(message.data() + 4, &version, 4);
  std::memcpy(message.data() + 8, &upgrade.tag, 8);
  std::memcpy(message.data() + 16, &bytes, 4);
  std::memcpy(message.data() + 20, upgrade.address.data(), bytes);
  return SendAll(fd, message.data(), message.size());
}

Status ReceiveUpgrade(int fd, Deadline deadline, bool magic_read, Upgrade* upgrade) {
  if (!magic_read) {
    uint32_t magic = 0;
    RCUDA_RETURN_IF_ERROR(ReceiveExact(fd, &magic, 4, deadline));
    if (magic != kUpgradeMagic) return Status::Corruption("not a UCX upgrade message");
  }
  uint8_t fixed[16];
  RCUDA_RETURN_IF_ERROR(ReceiveExact(fd, fixed, sizeof fixed, deadline));
  uint32_t version, bytes;
  std::memcpy(&version, fixed, 4);
  std::memcpy(&upgrade->tag, fixed + 4, 8);
  std::memcpy(&bytes, fixed + 12, 4);
  if (version != kUpgradeVersion) {
    return Status::Corruption("UCX upgrade version " + std::to_string(version) + " (this side speaks " +
                              std::to_string(kUpgradeVersion) + ")");
  }
  if (bytes == 0 || bytes > kMaxWorkerAddressBytes) {
    return Status::Corruption("UCX worker address of " + std::to_string(bytes) + " bytes");
  }
  upgrade->address.resize(bytes);
  return ReceiveExact(fd, upgrade->address.data(), bytes, deadline);
}

}  // namespace rcuda::ucx
