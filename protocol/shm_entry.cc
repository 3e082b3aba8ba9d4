#include "protocol/shm_entry.h"

#include <mutex>

#include "common/env.h"
#include "protocol/shm_socket.h"
#include "protocol/shm_transport.h"

namespace rcuda {
namespace {

bool IsLoopback(const Endpoint& endpoint) {
  const std::string& host = endpoint.host;
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

// Tries the places a local server's socket may be (protocol/shm_socket.h).
// report->absent: no server listens at any of them. Any other failure is a
// socket that is there and is not (or not safely) rcuda-server.
Status Connect(const Endpoint& endpoint, const TransportConnectOptions&, std::unique_ptr<Connection>* connection,
               TransportConnectReport* report) {
  if (GetEnv("RCUDA_SERVER_UID") && !ExpectedServerUid()) {
    static std::once_flag once;
    std::call_once(once, [&] {
      report->warnings.push_back("RCUDA_SERVER_UID=" + GetEnvOr("RCUDA_SERVER_UID", "") +
                                 " is neither a uid nor a user name; ignored");
    });
  }
  std::string missing;
  for (const std::string& path : ShmClientSocketPaths(endpoint.port)) {
    bool absent = false;
    Status s = ShmConnect(path, connection, &absent);
    if (s.ok()) return s;
    if (!absent) return s;
    missing += (missing.empty() ? "" : "; ") + s.message();
  }
  report->absent = true;
  return Status::Unavailable(missing.empty() ? "no local socket" : missing);
}

Status Listen(const TransportListenOptions& options, std::unique_ptr<Listener>* listener, std::string* description,
              std::string* note) {
  std::string path;
  RCUDA_RETURN_IF_ERROR(ShmServerSocketPath(options.port, &path, note));
  RCUDA_RETURN_IF_ERROR(ShmListen(path, listener));
  *description = "local clients through " + path;
  return Status::Ok();
}

Status Adopt(const std::vector<int>& fds, std::unique_ptr<Connection>* connection) {
  return ShmAdopt(fds[0], fds[1], connection);
}

}  // namespace

TransportEntry ShmTransportEntry() {
  TransportEntry e;
  e.name = "shm";
  e.label = "shared memory";
  e.connect = &Connect;
  e.host_local = true;  // a Unix socket and memory on this host: RCUDA_TLS does not apply
  e.auto_rank = 0;  // first, for a server on this host
  e.auto_applies = &IsLoopback;
  e.listen = &Listen;
  e.handles = 2;  // the Unix socket, the memfd
  e.adopt = &Adopt;
  return e;
}

}  // namespace rcuda
