// The UCX transport's entry in the transport registry
// (protocol/transport_registry.h). Clients choose it (RCUDA_TRANSPORT=ucx,
// or "ucx://" before an endpoint); `auto` never does. It has no listener of
// its own: it rides on the daemon's TCP port, where the client's Hello asks
// for it, and the worker that adopts the socket upgrades it (README.md of
// this folder). Compiled in every build: without UCX's headers its
// functions say that the transport is missing.
#pragma once

#include "protocol/transport_registry.h"

namespace rcuda {

TransportEntry UcxTransportEntry();

}  // namespace rcuda
