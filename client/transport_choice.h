// Which transport a session uses to reach its server
// (protocol/transport_registry.h lists them):
// - an endpoint with a scheme ("ucx://gpu1@8308:0") uses that transport or
//   fails;
// - otherwise RCUDA_TRANSPORT: `auto` (default) tries, in the registry's
//   order, the transports that apply to the endpoint (shared memory for a
//   server on this host, then TCP); a transport's name uses that one, and
//   where it cannot (UCX missing here or at the server) its fallback, TCP,
//   with a warning; shared memory has none (an error, as it always was).
#pragma once

#include <chrono>
#include <memory>

#include "common/endpoint.h"
#include "protocol/transport.h"

namespace rcuda::client {

Status ConnectTransport(const Endpoint& endpoint, std::chrono::milliseconds timeout,
                        std::unique_ptr<Connection>* connection);

// Once the server accepted the Hello sent over `connection`: whether the
// connection is what was asked for (a UCX endpoint whose server did not
// upgrade is not: an error for "ucx://", a warning for RCUDA_TRANSPORT=ucx).
Status ConfirmTransport(Connection& connection);

// The Hello's `transport`: the transport the client asks the server for.
std::string HelloTransport(const Connection& connection);

}  // namespace rcuda::client
