#include "protocol/tls/tls_client.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "protocol/frame.h"
#include "protocol/tls/tls_connection.h"

namespace rcuda {
namespace {

using Clock = std::chrono::steady_clock;

// A plaintext answer is a refusal: small.
constexpr uint32_t kMaxPlaintextAnswer = 64 << 10;

// Reads exactly `size` bytes from the non-blocking `fd` before `deadline`.
Status RecvExact(int fd, void* data, size_t size, Clock::time_point deadline) {
  char* out = static_cast<char*>(data);
  while (size > 0) {
    ssize_t n = recv(fd, out, size, 0);
    if (n > 0) {
      out += n;
      size -= static_cast<size_t>(n);
      continue;
    }
    if (n == 0) return Status::IoError("the server closed the connection");
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return Status::IoError(std::strerror(errno));
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return Status::Unavailable("timed out");
    pollfd p{fd, POLLIN, 0};
    poll(&p, 1, static_cast<int>(left.count()));
  }
  return Status::Ok();
}

// Runs when the client first waits for the server's TLS answer: a TLS
// record starts with its content type (20 to 23), an rcuda frame with 'R'
// ("RCUF"). A frame is the daemon's refusal of the preamble, or a server
// that knows nothing of TLS answering it as a Hello.
Status CheckForPlaintextAnswer(int fd, Clock::time_point deadline) {
  while (true) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return Status::Unavailable("no TLS answer from the server in time");
    pollfd p{fd, POLLIN, 0};
    int ready = poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR) return Status::IoError(std::string("poll: ") + std::strerror(errno));
    if (ready > 0) break;
  }
  uint8_t first = 0;
  ssize_t n = recv(fd, &first, 1, MSG_PEEK);
  if (n <= 0) return Status::Ok();  // the handshake reports the end or the error
  if (first != (kFrameMagic & 0xff)) return Status::Ok();
  FrameHeader header;
  std::vector<uint8_t> message;
  Status s = RecvExact(fd, &header, sizeof header, deadline);
  if (s.ok() && (header.magic != kFrameMagic || header.message_bytes == 0 ||
                 header.message_bytes > kMaxPlaintextAnswer)) {
    s = Status::Corruption("neither TLS nor an rcuda frame");
  }
  if (s.ok()) {
    message.resize(header.message_bytes);
    s = RecvExact(fd, message.data(), message.size(), deadline);
  }
  const wire::Reply* reply = s.ok() ? VerifiedReply(message) : nullptr;
  if (!reply) {
    return Status::Unavailable("the server answered the TLS request in plaintext, and unreadably" +
                               (s.ok() ? std::string() : " (" + s.message() + ")"));
  }
  const wire::HelloReply* hello = reply->body_as_HelloReply();
  if (hello && hello->accepted()) {
    return Status::Unavailable("the server does not speak TLS: it answered in plaintext (an rcuda-server "
                               "without TLS support)");
  }
  std::string why = hello && hello->message() ? hello->message()->str()
                    : reply->message()        ? reply->message()->str()
                                              : "no reason given";
  return Status::Unavailable("the server refused the TLS connection, in plaintext: " + why);
}

}  // namespace

Status TlsConnect(const std::string& host, uint16_t port, std::shared_ptr<const TlsContext> context,
                  std::span<const uint8_t> preamble, const TlsConnectOptions& options,
                  std::unique_ptr<Connection>* connection) {
  const auto deadline = Clock::now() + options.handshake_timeout;
  std::unique_ptr<Connection> tcp;
  RCUDA_RETURN_IF_ERROR(TcpConnect(host, port, options.tcp, &tcp));
  RCUDA_RETURN_IF_ERROR(WriteFrame(*tcp, preamble));
  // The socket changes hands: TLS owns a copy of it from here on, and the
  // TCP connection (whose read-ahead never ran) closes its own.
  int fd = fcntl(tcp->NativeHandle(), F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return Status::IoError(std::string("dup: ") + std::strerror(errno));
  std::string peer = tcp->PeerName();
  if (peer.rfind("tcp ", 0) == 0) peer = "tls " + peer.substr(4);
  tcp.reset();
  auto tls = std::make_unique<TlsConnection>(fd, std::move(context), peer);
  RCUDA_RETURN_IF_ERROR(tls->Init());
  RCUDA_RETURN_IF_ERROR(tls->Connect(options.verify_name.empty() ? host : options.verify_name, deadline,
                                     CheckForPlaintextAnswer));
  *connection = std::move(tls);
  return Status::Ok();
}

}  // namespace rcuda
