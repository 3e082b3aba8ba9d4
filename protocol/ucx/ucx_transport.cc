#include "protocol/ucx/ucx_transport.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "protocol/ucx/bootstrap.h"
#include "protocol/ucx/ucp_context.h"
#include "protocol/ucx/ucx_connection.h"

namespace rcuda {
namespace {

using ucx::UcxConnection;

class UcxListener final : public Listener {
 public:
  UcxListener(int fd) : fd_(fd), wake_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}
  ~UcxListener() override {
    Close();
    close(fd_);
    if (wake_ >= 0) close(wake_);
  }

  Status Accept(std::unique_ptr<Connection>* connection) override {
    while (true) {
      if (closed_.load()) return Status::IoError("the UCX listener is closed");
      pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_, POLLIN, 0}};
      if (poll(fds, wake_ >= 0 ? 2 : 1, -1) < 0 && errno != EINTR) {
        return Status::IoError(std::string("poll: ") + std::strerror(errno));
      }
      if (closed_.load()) return Status::IoError("the UCX listener is closed");
      if (!(fds[0].revents & POLLIN)) continue;
      int s = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (s < 0) {
        if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED) continue;
        return Status::IoError(std::string("accept: ") + std::strerror(errno));
      }
      fcntl(s, F_SETFL, fcntl(s, F_GETFL) & ~O_NONBLOCK);
      ucx::TuneBootstrapSocket(s);
      *connection = std::make_unique<UcxConnection>(s, UcxConnection::Side::kServer, "ucx " + ucx::SocketPeerName(s),
                                                    UcxOptions{}.upgrade_timeout);
      return Status::Ok();
    }
  }

  uint16_t Port() const override { return ucx::BoundPort(fd_); }

  void Close() override {
    if (closed_.exchange(true)) return;
    uint64_t one = 1;
    if (wake_ >= 0 && write(wake_, &one, sizeof one) < 0) { /* shutdown below wakes a poller too */
    }
    ::shutdown(fd_, SHUT_RDWR);
  }

 private:
  const int fd_;
  const int wake_;  // an eventfd that Close() signals
  std::atomic<bool> closed_{false};
};

}  // namespace

bool UcxAvailable(std::string* why) { return ucx::Ucp(why) != nullptr; }

Status UcxPrepare() {
  const ucx::UcpLibrary* ucp = nullptr;
  ucp_context_h context = nullptr;
  return ucx::ProcessContext(&ucp, &context);
}

Status UcxPrepareAdoption() { return ucx::PrepareWorker(); }

std::string UcxVersion() {
  const ucx::UcpLibrary* ucp = ucx::Ucp();
  return ucp ? ucp->ucp_get_version_string() : "";
}

Status UcxConnect(const std::string& host, uint16_t port, const UcxOptions& options,
                  std::unique_ptr<Connection>* connection) {
  if (options.leave_error_signals_to_program) ucx::LeaveErrorSignalsToProgram();
  // UCX itself must work here before the server is asked for anything.
  if (Status s = UcxPrepare(); !s.ok()) {
    return Status(s.code(), "the UCX transport is unavailable: " + s.message());
  }
  int fd = -1;
  std::string peer;
  RCUDA_RETURN_IF_ERROR(ucx::BootstrapConnect(host, port, options.connect_timeout, &fd, &peer));
  auto client =
      std::make_unique<UcxConnection>(fd, UcxConnection::Side::kClient, "ucx " + peer, options.upgrade_timeout);
  client->set_required(options.required);
  *connection = std::move(client);
  return Status::Ok();
}

Status UcxListen(const std::string& address, uint16_t port, std::unique_ptr<Listener>* listener) {
  int fd = -1;
  RCUDA_RETURN_IF_ERROR(ucx::BootstrapListen(address, port, &fd));
  *listener = std::make_unique<UcxListener>(fd);
  return Status::Ok();
}

Status UcxAdopt(int socket_fd, std::unique_ptr<Connection>* connection, const UcxOptions& options) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (getsockname(socket_fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(socket_fd);
    return Status::InvalidValue("descriptor " + std::to_string(socket_fd) + " is not a socket");
  }
  auto adopted = std::make_unique<UcxConnection>(socket_fd, UcxConnection::Side::kServer,
                                                 "ucx " + ucx::SocketPeerName(socket_fd), options.upgrade_timeout);
  RCUDA_RETURN_IF_ERROR(adopted->UpgradeAsServer());
  *connection = std::move(adopted);
  return Status::Ok();
}

Status UcxConfirm(Connection& connection, std::string* warning) {
  auto* ucx = dynamic_cast<UcxConnection*>(&connection);
  if (!ucx || ucx->upgraded()) return Status::Ok();
  const std::string why = ucx->answered_plainly()
                              ? "the server answered without UCX (rcuda-server --no-ucx, no libucp.so.0 there, or a "
                                "server older than UCX support)"
                              : "the connection was not upgraded to UCX";
  if (ucx->required()) return Status::Unavailable(why + "; this endpoint demands UCX (ucx://)");
  *warning = ucx->PeerName() + ": " + why + "; this session runs over TCP";
  return Status::Ok();
}

std::string UcxTransportsInUse(Connection& connection) {
  auto* ucx = dynamic_cast<UcxConnection*>(&connection);
  return ucx ? ucx->TransportsInUse() : "";
}

}  // namespace rcuda
