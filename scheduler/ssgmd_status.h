// The body of ssgmd's reply to {"op":"status"}: nodes, GPUs, leases, queue.
// Lease ids and idempotency keys are shown to operators only: a key is what
// a repeated request presents, and ids name leases in releases and renewals.
#pragma once

#include <cstdint>

#include "scheduler/json.h"
#include "scheduler/scheduler.h"

namespace rcuda::sched {

struct StatusView {
  bool with_leases = true;  // include the list of leases
  bool identity = false;    // with their ids and keys (operators)
  bool tokens = false;      // whether ssgmd signs tokens
};

// Everything but "stats", which the daemon adds.
Json BuildStatusReply(const Scheduler& scheduler, const StatusView& view, int64_t now_ms);

}  // namespace rcuda::sched
