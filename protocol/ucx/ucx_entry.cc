#include "protocol/ucx/ucx_entry.h"

#include "protocol/ucx/ucx_transport.h"

namespace rcuda {
namespace {

Status Connect(const Endpoint& endpoint, const TransportConnectOptions& options,
               std::unique_ptr<Connection>* connection, TransportConnectReport*) {
  UcxOptions ucx;
  ucx.connect_timeout = options.timeout;
  ucx.required = options.required;
  // Only clients connect: the process is someone else's CUDA program.
  ucx.leave_error_signals_to_program = true;
  return UcxConnect(endpoint.host, endpoint.port, ucx, connection);
}

bool Available(std::string* note) {
  if (!UcxAvailable(note)) return false;
  *note = "UCX " + UcxVersion();
  return true;
}

Status Adopt(const std::vector<int>& fds, std::unique_ptr<Connection>* connection) {
  return UcxAdopt(fds[0], connection);
}

std::string Describe(Connection& connection) { return UcxTransportsInUse(connection); }

}  // namespace

TransportEntry UcxTransportEntry() {
  TransportEntry e;
  e.name = "ucx";
  e.label = "UCX";
  e.connect = &Connect;
  e.auto_rank = -1;  // chosen, never guessed
  e.fallback = "tcp";
  e.confirm = &UcxConfirm;
  e.rides_on = "tcp";
  e.available = &Available;
  e.handles = 1;  // the bootstrap socket
  e.adopt = &Adopt;
  e.prepare = &UcxPrepareAdoption;
  e.describe = &Describe;
  return e;
}

}  // namespace rcuda
