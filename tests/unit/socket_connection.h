// A Connection over one end of a Unix socketpair, for frame tests without
// TCP: real blocking reads and writes, a real end of stream when the other
// end closes, and a way to write raw bytes that are not a valid frame.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include "protocol/transport.h"

namespace rcuda::unit {

class SocketConnection final : public Connection {
 public:
  explicit SocketConnection(int fd) : fd_(fd) {}
  ~SocketConnection() override { Close(); }

  // Two connected ends.
  static std::pair<std::unique_ptr<SocketConnection>, std::unique_ptr<SocketConnection>> Pair() {
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return {};
    return {std::make_unique<SocketConnection>(fds[0]), std::make_unique<SocketConnection>(fds[1])};
  }

  Status WriteAll(std::span<const ConstBuffer> buffers) override {
    std::vector<iovec> iov;
    for (const auto& b : buffers)
      if (b.size) iov.push_back({const_cast<void*>(b.data), b.size});
    size_t first = 0;
    while (first < iov.size()) {
      ssize_t n = writev(fd_, iov.data() + first, static_cast<int>(std::min<size_t>(iov.size() - first, 1024)));
      if (n < 0) {
        if (errno == EINTR) continue;
        return Status::IoError(std::string("writev: ") + std::strerror(errno));
      }
      size_t left = static_cast<size_t>(n);
      while (first < iov.size() && left >= iov[first].iov_len) left -= iov[first++].iov_len;
      if (left) {
        iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + left;
        iov[first].iov_len -= left;
      }
    }
    return Status::Ok();
  }

  Status WriteRaw(const void* data, size_t size) {
    ConstBuffer b{data, size};
    return WriteAll(std::span(&b, 1));
  }

  Status ReadExact(void* data, size_t size) override {
    char* out = static_cast<char*>(data);
    while (size) {
      ssize_t n = read(fd_, out, size);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Status::IoError(std::string("read: ") + std::strerror(errno));
      if (n == 0) return Status::IoError("connection closed by the peer");
      out += n;
      size -= static_cast<size_t>(n);
    }
    return Status::Ok();
  }

  void Shutdown() override { ::shutdown(fd_, SHUT_RDWR); }
  std::string PeerName() const override { return "socketpair"; }
  int NativeHandle() const override { return fd_; }

  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

}  // namespace rcuda::unit
