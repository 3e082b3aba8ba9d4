#include "protocol/ucx/ucp_context.h"

#include <unistd.h>

#include <mutex>

namespace rcuda::ucx {
namespace {

std::mutex prepared_mu;
ucp_worker_h prepared = nullptr;  // guarded by prepared_mu
pid_t prepared_owner = 0;         // guarded by prepared_mu

}  // namespace

ucp_worker_params_t WorkerParams() {
  ucp_worker_params_t params{};
  params.field_mask = UCP_WORKER_PARAM_FIELD_THREAD_MODE;
  params.thread_mode = UCS_THREAD_MODE_SERIALIZED;
  return params;
}

Status PrepareWorker() {
  const UcpLibrary* ucp = nullptr;
  ucp_context_h context = nullptr;
  RCUDA_RETURN_IF_ERROR(ProcessContext(&ucp, &context));
  std::lock_guard lock(prepared_mu);
  if (prepared && prepared_owner == getpid()) return Status::Ok();
  ucp_worker_params_t params = WorkerParams();
  ucp_worker_h worker = nullptr;
  ucs_status_t st = ucp->ucp_worker_create(context, &params, &worker);
  if (st != UCS_OK) return Status::Unavailable(UcsError("creating a UCX worker", st));
  prepared = worker;
  prepared_owner = getpid();
  return Status::Ok();
}

ucp_worker_h TakePreparedWorker() {
  std::lock_guard lock(prepared_mu);
  if (!prepared || prepared_owner != getpid()) return nullptr;
  ucp_worker_h worker = prepared;
  prepared = nullptr;
  return worker;
}

Status ProcessContext(const UcpLibrary** ucp, ucp_context_h* context) {
  static std::mutex mu;
  static ucp_context_h shared = nullptr;  // guarded by mu
  static pid_t owner = 0;                 // the process that made `shared`
  std::string why;
  const UcpLibrary* library = Ucp(&why);
  if (!library) return Status::NotSupported(why);
  std::lock_guard lock(mu);
  // A context inherited through fork is the parent's (its shared memory,
  // its UCX threads, which the child lacks); the child makes its own and
  // leaves the parent's alone.
  if (!shared || owner != getpid()) {
    ucp_config_t* config = nullptr;
    ucs_status_t st = library->ucp_config_read(nullptr, nullptr, &config);
    if (st != UCS_OK) return Status::Unavailable(UcsError("reading UCX's configuration (UCX_* variables)", st));
    ucp_params_t params{};
    params.field_mask = UCP_PARAM_FIELD_FEATURES | UCP_PARAM_FIELD_MT_WORKERS_SHARED |
                        UCP_PARAM_FIELD_ESTIMATED_NUM_EPS | UCP_PARAM_FIELD_NAME;
    // Tagged messages, and an event descriptor to sleep on (WAKEUP).
    params.features = UCP_FEATURE_TAG | UCP_FEATURE_WAKEUP;
    // Connections (and so workers) of several threads share the context.
    params.mt_workers_shared = 1;
    params.estimated_num_eps = 1;
    params.name = "rcuda";
    ucp_context_h created = nullptr;
    st = library->ucp_init_version(UCP_API_MAJOR, UCP_API_MINOR, &params, config, &created);
    library->ucp_config_release(config);
    if (st != UCS_OK) return Status::Unavailable(UcsError("initializing UCX", st));
    shared = created;
    owner = getpid();
  }
  *ucp = library;
  *context = shared;
  return Status::Ok();
}

}  // namespace rcuda::ucx
