#include "protocol/tcp_transport.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <asio.hpp>
#include <cstring>
#include <vector>

namespace rcuda {
namespace {

std::string Describe(const asio::ip::tcp::endpoint& ep) {
  std::string address = ep.address().to_string();
  if (ep.address().is_v6()) address = "[" + address + "]";
  return address + ":" + std::to_string(ep.port());
}

void TuneSocket(asio::ip::tcp::socket& socket, int buffer_bytes, int keepalive_idle) {
  std::error_code ec;
  socket.set_option(asio::ip::tcp::no_delay(true), ec);
  if (buffer_bytes > 0) {
    socket.set_option(asio::socket_base::send_buffer_size(buffer_bytes), ec);
    socket.set_option(asio::socket_base::receive_buffer_size(buffer_bytes), ec);
  }
  if (keepalive_idle > 0) {
    socket.set_option(asio::socket_base::keep_alive(true), ec);
    int fd = socket.native_handle();
    int idle = keepalive_idle, interval = 2, count = 5;
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
  }
}

class TcpConnection final : public Connection {
 public:
  TcpConnection(std::unique_ptr<asio::io_context> io, asio::ip::tcp::socket socket, bool read_ahead = true)
      : io_(std::move(io)), socket_(std::move(socket)), read_ahead_(read_ahead) {
    std::error_code ec;
    auto remote = socket_.remote_endpoint(ec);
    peer_ = ec ? std::string("tcp (unknown peer)") : "tcp " + Describe(remote);
  }

  ~TcpConnection() override {
    std::error_code ec;
    socket_.close(ec);
  }

  Status WriteAll(std::span<const ConstBuffer> buffers) override {
    std::vector<asio::const_buffer> parts;
    parts.reserve(buffers.size());
    for (const auto& b : buffers)
      if (b.size) parts.emplace_back(b.data, b.size);
    std::error_code ec;
    asio::write(socket_, parts, ec);
    if (ec) return Status::IoError("write to " + peer_ + " failed: " + ec.message());
    return Status::Ok();
  }

  Status ReadExact(void* data, size_t size) override {
    char* out = static_cast<char*>(data);
    // Serve what the read-ahead buffer holds first.
    size_t buffered = end_ - begin_;
    if (buffered) {
      size_t n = std::min(buffered, size);
      std::memcpy(out, buffer_.data() + begin_, n);
      begin_ += n;
      out += n;
      size -= n;
    }
    if (size == 0) return Status::Ok();
    // Large reads (bulk data) go straight into the destination, and so
    // does every read of a connection that must not read ahead.
    if (size >= kReadAhead / 2 || !read_ahead_) {
      std::error_code ec;
      asio::read(socket_, asio::buffer(out, size), ec);
      if (ec) return ReadError(ec);
      return Status::Ok();
    }
    // Small reads refill the buffer with whatever has arrived, so a header,
    // a message and a small payload usually cost one system call.
    begin_ = end_ = 0;
    while (end_ < size) {
      std::error_code ec;
      size_t n = socket_.read_some(asio::buffer(buffer_.data() + end_, buffer_.size() - end_), ec);
      if (ec) return ReadError(ec);
      end_ += n;
    }
    std::memcpy(out, buffer_.data(), size);
    begin_ = size;
    return Status::Ok();
  }

  void Shutdown() override { ::shutdown(socket_.native_handle(), SHUT_RDWR); }

  std::string PeerName() const override { return peer_; }

  std::string Kind() const override { return "tcp"; }
  std::vector<int> HandoffHandles() const override {
    return {const_cast<asio::ip::tcp::socket&>(socket_).native_handle()};
  }

 private:
  static constexpr size_t kReadAhead = 64 << 10;

  Status ReadError(const std::error_code& ec) {
    if (ec == asio::error::eof) return Status::IoError("connection closed by " + peer_);
    return Status::IoError("read from " + peer_ + " failed: " + ec.message());
  }

  std::unique_ptr<asio::io_context> io_;
  asio::ip::tcp::socket socket_;
  std::string peer_;
  const bool read_ahead_;
  std::vector<char> buffer_ = std::vector<char>(kReadAhead);
  size_t begin_ = 0, end_ = 0;
};

class TcpListener final : public Listener {
 public:
  TcpListener(std::unique_ptr<asio::io_context> io, asio::ip::tcp::acceptor acceptor, bool read_ahead)
      : io_(std::move(io)), acceptor_(std::move(acceptor)), read_ahead_(read_ahead) {}

  Status Accept(std::unique_ptr<Connection>* connection) override {
    auto io = std::make_unique<asio::io_context>();
    asio::ip::tcp::socket socket(*io);
    std::error_code ec;
    acceptor_.accept(socket, ec);
    if (ec) return Status::IoError("accept failed: " + ec.message());
    TuneSocket(socket, 4 << 20, 10);
    *connection = std::make_unique<TcpConnection>(std::move(io), std::move(socket), read_ahead_);
    return Status::Ok();
  }

  uint16_t Port() const override {
    std::error_code ec;
    return acceptor_.local_endpoint(ec).port();
  }

  void Close() override {
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    std::error_code ec;
    acceptor_.close(ec);
  }

 private:
  std::unique_ptr<asio::io_context> io_;
  asio::ip::tcp::acceptor acceptor_;
  const bool read_ahead_;
};

}  // namespace

Status TcpConnect(const std::string& host, uint16_t port, const TcpOptions& options,
                  std::unique_ptr<Connection>* connection) {
  auto io = std::make_unique<asio::io_context>();
  asio::ip::tcp::resolver resolver(*io);
  std::error_code ec;
  auto endpoints = resolver.resolve(host, std::to_string(port), ec);
  if (ec) return Status::Unavailable("cannot resolve " + host + ": " + ec.message());

  asio::ip::tcp::socket socket(*io);
  std::error_code connect_ec = asio::error::would_block;
  asio::async_connect(socket, endpoints,
                      [&](const std::error_code& result, const asio::ip::tcp::endpoint&) { connect_ec = result; });
  io->run_for(options.connect_timeout);
  if (connect_ec == asio::error::would_block) {
    return Status::Unavailable("connecting to " + host + ":" + std::to_string(port) + " timed out after " +
                               std::to_string(options.connect_timeout.count()) + " ms");
  }
  if (connect_ec) {
    return Status::Unavailable("cannot connect to " + host + ":" + std::to_string(port) + ": " +
                               connect_ec.message());
  }
  io->restart();
  TuneSocket(socket, options.socket_buffer_bytes, options.keepalive_idle_seconds);
  *connection = std::make_unique<TcpConnection>(std::move(io), std::move(socket));
  return Status::Ok();
}

Status TcpListen(const std::string& address, uint16_t port, std::unique_ptr<Listener>* listener, bool read_ahead) {
  auto io = std::make_unique<asio::io_context>();
  std::error_code ec;
  auto addr = asio::ip::make_address(address, ec);
  if (ec) return Status::InvalidValue("bad listen address '" + address + "': " + ec.message());
  asio::ip::tcp::acceptor acceptor(*io);
  asio::ip::tcp::endpoint endpoint(addr, port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Status::Unavailable("cannot listen on " + address + ":" + std::to_string(port) + ": " + ec.message());
  *listener = std::make_unique<TcpListener>(std::move(io), std::move(acceptor), read_ahead);
  return Status::Ok();
}

Status TcpAdopt(int fd, std::unique_ptr<Connection>* connection) {
  auto io = std::make_unique<asio::io_context>();
  asio::ip::tcp::socket socket(*io);
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return Status::InvalidValue("descriptor " + std::to_string(fd) + " is not a socket");
  }
  std::error_code ec;
  socket.assign(addr.ss_family == AF_INET6 ? asio::ip::tcp::v6() : asio::ip::tcp::v4(), fd, ec);
  if (ec) return Status::InvalidValue("cannot adopt socket: " + ec.message());
  *connection = std::make_unique<TcpConnection>(std::move(io), std::move(socket));
  return Status::Ok();
}

}  // namespace rcuda
