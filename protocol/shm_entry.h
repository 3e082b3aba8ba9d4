// The shared-memory transport's entry in the transport registry
// (protocol/transport_registry.h): `auto` tries it first for a server on
// this host; the daemon listens on a Unix socket named after its TCP port
// (protocol/shm_socket.h).
#pragma once

#include "protocol/transport_registry.h"

namespace rcuda {

TransportEntry ShmTransportEntry();

}  // namespace rcuda
