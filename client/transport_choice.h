// Which transport a session uses to reach its server: shared memory when
// the server is on this host (loopback endpoint) and listens on its Unix
// socket, TCP otherwise or when RCUDA_TRANSPORT=tcp. RCUDA_TRANSPORT=shm
// insists on shared memory (an error if it cannot be set up).
#pragma once

#include <chrono>
#include <memory>

#include "common/endpoint.h"
#include "protocol/transport.h"

namespace rcuda::client {

Status ConnectTransport(const Endpoint& endpoint, std::chrono::milliseconds timeout,
                        std::unique_ptr<Connection>* connection);

}  // namespace rcuda::client
