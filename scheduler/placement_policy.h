// Placement policies: given the GPUs that can take a request's memory, which
// ones it gets. The scheduler asks RankCandidates for an order and takes the
// first N.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace rcuda::sched {

enum class Policy {
  kBestFit,      // the GPU left with the least free memory: packs GPUs, keeps big holes for big requests
  kSpread,       // worst fit: the GPU left with the most free memory
  kLeastLoaded,  // the fewest leases (plus reported utilization), then the most free memory
  kRoundRobin,   // the next GPU in node/index order after the last one granted
};

const char* PolicyName(Policy policy);
Status ParsePolicy(std::string_view text, Policy* policy);

struct Candidate {
  std::string_view node;
  int gpu = 0;
  uint64_t free_after_bytes = 0;  // unallocated memory once this request's share is taken
  double load = 0;                // leases on the GPU + utilization / 100
};

// Where round robin continues: the last GPU it granted.
struct RingCursor {
  bool valid = false;
  std::string node;
  int gpu = 0;
};

// Reorders `candidates`, which come in ring order (node name, then GPU
// index), by preference, best first. Ties keep ring order, so the result is
// deterministic.
void RankCandidates(Policy policy, const RingCursor& cursor, std::vector<Candidate>* candidates);

}  // namespace rcuda::sched
