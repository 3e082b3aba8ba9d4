#include "protocol/tcp_entry.h"

#include <unistd.h>

#include "protocol/tcp_transport.h"

namespace rcuda {
namespace {

Status Connect(const Endpoint& endpoint, const TransportConnectOptions& options,
               std::unique_ptr<Connection>* connection, TransportConnectReport*) {
  TcpOptions tcp;
  tcp.connect_timeout = options.timeout;
  return TcpConnect(endpoint.host, endpoint.port, tcp, connection);
}

Status Listen(const TransportListenOptions& options, std::unique_ptr<Listener>* listener, std::string* description,
              std::string*) {
  // No read-ahead: the daemon reads only a connection's first frame, and
  // what follows it (a TLS client's ClientHello) must stay in the socket
  // for the session worker it is handed to.
  RCUDA_RETURN_IF_ERROR(TcpListen(options.address, options.port, listener, /*read_ahead=*/false));
  *description = "TCP on " + options.address + ":" + std::to_string((*listener)->Port());
  return Status::Ok();
}

Status Adopt(const std::vector<int>& fds, std::unique_ptr<Connection>* connection) {
  Status s = TcpAdopt(fds[0], connection);
  if (!s.ok()) close(fds[0]);
  return s;
}

}  // namespace

TransportEntry TcpTransportEntry() {
  TransportEntry e;
  e.name = "tcp";
  e.label = "TCP";
  e.connect = &Connect;
  e.auto_rank = 100;  // last: whatever the endpoint, TCP reaches it
  e.listen = &Listen;
  e.main_listener = true;
  e.handles = 1;
  e.adopt = &Adopt;
  return e;
}

}  // namespace rcuda
