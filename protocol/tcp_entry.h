// The TCP transport's entry in the transport registry
// (protocol/transport_registry.h): every client can use it, the daemon's
// main listener is TCP, and the other transports fall back to it.
#pragma once

#include "protocol/transport_registry.h"

namespace rcuda {

TransportEntry TcpTransportEntry();

}  // namespace rcuda
