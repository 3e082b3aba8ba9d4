#include "scheduler/line_client.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>

namespace rcuda::sched {

namespace {

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Waits for `events` on fd until the deadline; false on timeout.
Status WaitFor(int fd, short events, int64_t deadline_ms, const char* what) {
  while (true) {
    int64_t left = deadline_ms - SteadyMs();
    if (left <= 0) return Status::Unavailable(std::string("timed out ") + what);
    pollfd p{fd, events, 0};
    int rc = ::poll(&p, 1, int(std::min<int64_t>(left, 1 << 30)));
    if (rc > 0) return Status::Ok();
    if (rc < 0 && errno != EINTR) return Status::IoError(std::string("poll: ") + std::strerror(errno));
  }
}

}  // namespace

Status ParseHostPort(std::string_view text, uint16_t default_port, std::string* host, uint16_t* port) {
  std::string_view port_text;
  if (text.starts_with('[')) {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return Status::InvalidValue("bad address '" + std::string(text) + "'");
    *host = std::string(text.substr(1, close - 1));
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return Status::InvalidValue("bad address '" + std::string(text) + "'");
      port_text = rest.substr(1);
    }
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    size_t colon = text.find(':');
    *host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
  } else {
    *host = std::string(text);  // no port, or a bare IPv6 address
  }
  if (host->empty()) return Status::InvalidValue("bad address '" + std::string(text) + "': no host");
  *port = default_port;
  if (!port_text.empty()) {
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc() || ptr != port_text.data() + port_text.size() || value == 0 || value > 65535) {
      return Status::InvalidValue("bad port in '" + std::string(text) + "'");
    }
    *port = uint16_t(value);
  }
  return Status::Ok();
}

LineClient::~LineClient() { Close(); }

void LineClient::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buffer_.clear();
}

Status LineClient::Connect(const std::string& host, uint16_t port, int64_t timeout_ms) {
  Close();
  int64_t deadline = SteadyMs() + timeout_ms;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* results = nullptr;
  std::string service = std::to_string(port);
  int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &results);
  if (rc != 0) return Status::Unavailable("cannot resolve " + host + ": " + gai_strerror(rc));
  Status last = Status::Unavailable("no address for " + host);
  for (addrinfo* ai = results; ai; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    // A vanished ssgmd host is noticed while a blocking request waits.
    ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    int idle = 10, interval = 5, count = 3;
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
      last = Status::Unavailable("connect " + host + ":" + service + ": " + std::strerror(errno));
      ::close(fd);
      continue;
    }
    Status waited = WaitFor(fd, POLLOUT, deadline, "connecting");
    int error = 0;
    socklen_t length = sizeof error;
    if (waited.ok()) ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
    if (!waited.ok() || error != 0) {
      last = Status::Unavailable("connect " + host + ":" + service + ": " +
                                 (waited.ok() ? std::strerror(error) : waited.message()));
      ::close(fd);
      continue;
    }
    fd_ = fd;
    ::freeaddrinfo(results);
    return Status::Ok();
  }
  ::freeaddrinfo(results);
  return last;
}

Status LineClient::WriteLine(std::string_view line, int64_t timeout_ms) {
  if (fd_ < 0) return Status::IoError("not connected");
  std::string data(line);
  data += '\n';
  int64_t deadline = SteadyMs() + timeout_ms;
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n > 0) {
      done += size_t(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      RCUDA_RETURN_IF_ERROR(WaitFor(fd_, POLLOUT, deadline, "sending"));
      continue;
    }
    return Status::IoError(std::string("send: ") + std::strerror(errno));
  }
  return Status::Ok();
}

Status LineClient::ReadLine(std::string* line, int64_t timeout_ms, size_t max_bytes) {
  if (fd_ < 0) return Status::IoError("not connected");
  int64_t deadline = SteadyMs() + timeout_ms;
  size_t scanned = 0;
  while (true) {
    size_t newline = buffer_.find('\n', scanned);
    if (newline != std::string::npos) {
      line->assign(buffer_, 0, newline);
      buffer_.erase(0, newline + 1);
      return Status::Ok();
    }
    scanned = buffer_.size();
    if (buffer_.size() > max_bytes) return Status::IoError("reply line too long");
    char chunk[1 << 16];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n > 0) {
      buffer_.append(chunk, size_t(n));
      continue;
    }
    if (n == 0) return Status::IoError("connection closed by ssgmd");
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      RCUDA_RETURN_IF_ERROR(WaitFor(fd_, POLLIN, deadline, "waiting for a reply"));
      continue;
    }
    return Status::IoError(std::string("recv: ") + std::strerror(errno));
  }
}

}  // namespace rcuda::sched
