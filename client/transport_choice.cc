#include "client/transport_choice.h"

#include <mutex>

#include "client/log.h"
#include "common/env.h"
#include "protocol/shm_transport.h"
#include "protocol/tcp_transport.h"

namespace rcuda::client {
namespace {

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

// Tries the places a local server's socket may be (protocol/shm_socket.h).
// *refused: a socket was there but its listener is not one this user
// trusts, or its set-up failed; `why` says so.
Status ConnectLocal(const Endpoint& endpoint, std::unique_ptr<Connection>* connection, bool* refused,
                    std::string* why) {
  *refused = false;
  std::string missing;
  for (const std::string& path : ShmClientSocketPaths(endpoint.port)) {
    bool absent = false;
    Status s = ShmConnect(path, connection, &absent);
    if (s.ok()) {
      Log(LogLevel::kDebug, "using shared memory to reach " + endpoint.ToString() + " (" + path + ")");
      return s;
    }
    // Nothing listening there: look further. Anything else is a socket
    // that is there and is not (or not safely) rcuda-server.
    if (absent) {
      missing += (missing.empty() ? "" : "; ") + s.message();
      continue;
    }
    *refused = true;
    *why = s.message();
    return s;
  }
  *why = missing.empty() ? "no local socket" : missing;
  return Status::Unavailable(*why);
}

}  // namespace

Status ConnectTransport(const Endpoint& endpoint, std::chrono::milliseconds timeout,
                        std::unique_ptr<Connection>* connection) {
  std::string choice = GetEnvOr("RCUDA_TRANSPORT", "auto");
  if (choice == "shm" || (choice == "auto" && IsLoopback(endpoint.host))) {
    if (GetEnv("RCUDA_SERVER_UID") && !ExpectedServerUid()) {
      static std::once_flag once;
      std::call_once(once, [] {
        Log(LogLevel::kWarn, "RCUDA_SERVER_UID=" + GetEnvOr("RCUDA_SERVER_UID", "") +
                                 " is neither a uid nor a user name; ignored");
      });
    }
    bool refused = false;
    std::string why;
    Status s = ConnectLocal(endpoint, connection, &refused, &why);
    if (s.ok() || choice == "shm") return s;
    if (refused) {
      Log(LogLevel::kWarn, "not using shared memory for " + endpoint.ToString() + ": " + why + "; using TCP");
    } else {
      Log(LogLevel::kDebug, "shared memory unavailable (" + why + "); using TCP");
    }
  }
  TcpOptions options;
  options.connect_timeout = timeout;
  return TcpConnect(endpoint.host, endpoint.port, options, connection);
}

}  // namespace rcuda::client
