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

// Makes a UCP worker ahead of the connection that will use it (a warm
// session worker does, before its session arrives: on shared memory a
// worker takes tens of milliseconds to make), unless one is kept already.
Status PrepareWorker();
// The worker PrepareWorker made, once (nullptr when there is none, or in a
// forked child: it is the parent's). The caller owns it.
ucp_worker_h TakePreparedWorker();
// How the connections' workers are made: one thread at a time calls UCX on
// each (UcxConnection's mutex).
ucp_worker_params_t WorkerParams();

}  // namespace rcuda::ucx
