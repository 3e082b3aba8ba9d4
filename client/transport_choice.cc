#include "client/transport_choice.h"

#include "client/log.h"
#include "common/env.h"
#include "protocol/shm_transport.h"
#include "protocol/tcp_transport.h"

namespace rcuda::client {
namespace {

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

}  // namespace

Status ConnectTransport(const Endpoint& endpoint, std::chrono::milliseconds timeout,
                        std::unique_ptr<Connection>* connection) {
  std::string choice = GetEnvOr("RCUDA_TRANSPORT", "auto");
  if (choice == "shm" || (choice == "auto" && IsLoopback(endpoint.host))) {
    std::string path = ShmSocketPath(endpoint.port);
    Status s = ShmConnect(path, connection);
    if (s.ok()) {
      Log(LogLevel::kDebug, "using shared memory to reach " + endpoint.ToString() + " (" + path + ")");
      return s;
    }
    if (choice == "shm") return s;
    Log(LogLevel::kDebug, "shared memory unavailable (" + s.message() + "); using TCP");
  }
  TcpOptions options;
  options.connect_timeout = timeout;
  return TcpConnect(endpoint.host, endpoint.port, options, connection);
}

}  // namespace rcuda::client
