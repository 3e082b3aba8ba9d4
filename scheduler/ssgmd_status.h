// The body of ssgmd's reply to {"op":"status"} (nodes, GPUs, leases, queue), and
// the pieces of its "stats" that need no daemon state.
// Lease ids and idempotency keys are shown to operators only: a key is what
// a repeated request presents, and ids name leases in releases and renewals.
#pragma once

#include <cstdint>

#include "scheduler/journal.h"
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

// Pieces of "stats": the scheduler's counters, and the journal's batches and sync times.
Json SchedulerCountersJson(const SchedulerCounters& counters);
Json JournalStatsJson(const Journal& journal);

}  // namespace rcuda::sched
