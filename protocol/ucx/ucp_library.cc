#include "protocol/ucx/ucp_library.h"

#include <dlfcn.h>

#include <atomic>
#include <cstdlib>

namespace rcuda::ucx {
namespace {

std::atomic<bool> leave_error_signals{false};

struct Loaded {
  UcpLibrary library;
  bool ok = false;
  std::string why;
};

Loaded Load() {
  Loaded loaded;
  // libucs reads UCX_ERROR_SIGNALS as it is loaded and installs its
  // handlers then. setenv races with other threads' getenv: this runs once,
  // under the function-local static's initialization, before UCX exists,
  // and only when the variable is unset.
  if (leave_error_signals.load() && !std::getenv("UCX_ERROR_SIGNALS")) setenv("UCX_ERROR_SIGNALS", "", 0);
  // RTLD_LOCAL: UCX's symbols stay out of the program's namespace.
  void* handle = dlopen("libucp.so.0", RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* error = dlerror();
    loaded.why = std::string("UCX is not installed here (") + (error ? error : "libucp.so.0 not found") + ")";
    return loaded;
  }
  // dlsym on the handle searches libucp and what it loaded with it (libucs).
#define RCUDA_UCP_RESOLVE(name)                                                    \
  loaded.library.name = reinterpret_cast<decltype(&::name)>(dlsym(handle, #name)); \
  if (!loaded.library.name) {                                                      \
    loaded.why = "libucp.so.0 lacks " #name " (UCX older than 1.10?)";             \
    return loaded;                                                                 \
  }
  RCUDA_UCP_FUNCTIONS(RCUDA_UCP_RESOLVE)
#undef RCUDA_UCP_RESOLVE
  // Never closed: UCX keeps threads and memory hooks for the process's life.
  loaded.ok = true;
  return loaded;
}

}  // namespace

void LeaveErrorSignalsToProgram() { leave_error_signals.store(true); }

const UcpLibrary* Ucp(std::string* why) {
  static const Loaded loaded = Load();
  if (!loaded.ok) {
    if (why) *why = loaded.why;
    return nullptr;
  }
  return &loaded.library;
}

std::string UcsError(const char* what, ucs_status_t status) {
  const UcpLibrary* ucp = Ucp();
  return std::string(what) + ": " + (ucp ? ucp->ucs_status_string(status) : "UCX error") + " (UCX status " +
         std::to_string(static_cast<int>(status)) + ")";
}

}  // namespace rcuda::ucx
