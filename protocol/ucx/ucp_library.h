// UCX's UCP library, opened at run time (dlopen "libucp.so.0") rather than
// linked: rcuda's client library is loaded into every CUDA program a user
// runs, and a build made on one machine must run on machines without UCX
// (README: Install). UCX itself loads its transports (InfiniBand, RoCE, TCP,
// shared memory) as plugins at run time, so a program that never chooses UCX
// never loads any of it, and a cluster's own UCX build (found through
// LD_LIBRARY_PATH) is the one that runs. The headers come from the build
// machine's libucx-dev; UCP's API is versioned (ucp_init_version) and its
// parameter structures carry field masks, so a newer libucp.so.0 accepts
// what these headers build.
#pragma once

#include <ucp/api/ucp.h>

#include <string>

namespace rcuda::ucx {

// The UCP entry points rcuda uses, resolved by name with the headers' types.
#define RCUDA_UCP_FUNCTIONS(X)  \
  X(ucp_config_read)            \
  X(ucp_config_release)         \
  X(ucp_init_version)           \
  X(ucp_get_version_string)     \
  X(ucp_worker_create)          \
  X(ucp_worker_destroy)         \
  X(ucp_worker_get_address)     \
  X(ucp_worker_release_address) \
  X(ucp_worker_progress)        \
  X(ucp_worker_get_efd)         \
  X(ucp_worker_arm)             \
  X(ucp_ep_create)              \
  X(ucp_ep_close_nbx)           \
  X(ucp_ep_print_info)          \
  X(ucp_tag_send_nbx)           \
  X(ucp_tag_probe_nb)           \
  X(ucp_tag_msg_recv_nbx)       \
  X(ucp_request_check_status)   \
  X(ucp_request_cancel)         \
  X(ucp_request_free)           \
  X(ucs_status_string)

struct UcpLibrary {
#define RCUDA_UCP_POINTER(name) decltype(&::name) name = nullptr;
  RCUDA_UCP_FUNCTIONS(RCUDA_UCP_POINTER)
#undef RCUDA_UCP_POINTER
};

// Asks that UCX be loaded with UCX_ERROR_SIGNALS empty unless the user set
// it (UcxOptions::leave_error_signals_to_program). libucs installs its
// handlers as it is loaded, reading the variable then: only a call before
// the first Ucp() has an effect.
void LeaveErrorSignalsToProgram();

// The library, opened once per process; nullptr when it cannot be (then
// *why, if given, says why: no libucp.so.0, or a symbol missing).
const UcpLibrary* Ucp(std::string* why = nullptr);

// "UCX error: <UCX's words>" for a failed call.
std::string UcsError(const char* what, ucs_status_t status);

}  // namespace rcuda::ucx
