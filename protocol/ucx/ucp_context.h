// The process's UCP context: UCX reads its configuration (UCX_TLS,
// UCX_NET_DEVICES, ...) from the environment once, here, and every UCX
// connection of the process makes its worker in it.
#pragma once

#include "common/status.h"
#include "protocol/ucx/ucp_library.h"

namespace rcuda::ucx {

// Creates the context on first use (again in a forked child: a context does
// not survive fork). Fails when libucp.so.0 cannot be opened or UCX finds no
// usable transport.
Status ProcessContext(const UcpLibrary** ucp, ucp_context_h* context);

}  // namespace rcuda::ucx
