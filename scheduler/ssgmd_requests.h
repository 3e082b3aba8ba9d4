// What ssgmd checks of a "request" and of a "renew" message (wire.h lists the
// fields) before the scheduler sees them. Pure functions: the service calls
// them for each message; tests and the fuzz targets (tests/fuzz) call them
// directly.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "scheduler/json.h"
#include "scheduler/scheduler.h"
#include "scheduler/ssgmd_service.h"

namespace rcuda::sched {

// Fills everything but request->requester, which is the service's to set.
Status DecodeLeaseRequest(const Json& message, const SsgmdOptions& options, LeaseRequest* request);
Status DecodeRenew(const Json& message, const SsgmdOptions& options, std::string* lease_id, int64_t* ttl_ms);

}  // namespace rcuda::sched
