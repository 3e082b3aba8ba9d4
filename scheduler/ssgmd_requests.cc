#include "scheduler/ssgmd_requests.h"

#include "scheduler/wire.h"

namespace rcuda::sched {

Status DecodeLeaseRequest(const Json& message, const SsgmdOptions& options, LeaseRequest* request) {
  int64_t gpus = 1, mem = 0, wait_ms = 0, ttl_ms = options.default_ttl_ms;
  std::string key;
  RCUDA_RETURN_IF_ERROR(GetOptionalInt(message, "gpus", &gpus));
  RCUDA_RETURN_IF_ERROR(GetInt(message, "mem", &mem));
  RCUDA_RETURN_IF_ERROR(GetOptionalInt(message, "wait_ms", &wait_ms));
  RCUDA_RETURN_IF_ERROR(GetOptionalInt(message, "ttl_ms", &ttl_ms));
  RCUDA_RETURN_IF_ERROR(GetOptionalString(message, "key", &key));
  if (gpus < 1 || gpus > options.max_gpus_per_request) {
    return Status::InvalidValue("gpus must be 1 to " + std::to_string(options.max_gpus_per_request));
  }
  if (mem <= 0) return Status::InvalidValue("mem must be a positive number of bytes");
  if (ttl_ms <= 0 || ttl_ms > options.max_ttl_ms) {
    return Status::InvalidValue("ttl_ms must be 1 to " + std::to_string(options.max_ttl_ms) + " (max-ttl)");
  }
  if (!key.empty() && !IsValidKey(key)) {
    return Status::InvalidValue("an idempotency key is 1 to 200 printable characters without spaces");
  }
  // A negative wait means "as long as ssgmd allows".
  if (wait_ms < 0 || wait_ms > options.max_wait_ms) wait_ms = options.max_wait_ms;
  request->gpus = int(gpus);
  request->mem_bytes = uint64_t(mem);
  request->ttl_ms = ttl_ms;
  request->wait_ms = wait_ms;
  request->key = key;
  return Status::Ok();
}

Status DecodeRenew(const Json& message, const SsgmdOptions& options, std::string* lease_id, int64_t* ttl_ms) {
  *ttl_ms = 0;
  RCUDA_RETURN_IF_ERROR(GetString(message, "lease", lease_id));
  RCUDA_RETURN_IF_ERROR(GetOptionalInt(message, "ttl_ms", ttl_ms));
  if (*ttl_ms < 0 || *ttl_ms > options.max_ttl_ms) {
    return Status::InvalidValue("ttl_ms must be 1 to " + std::to_string(options.max_ttl_ms));
  }
  return Status::Ok();
}

}  // namespace rcuda::sched
