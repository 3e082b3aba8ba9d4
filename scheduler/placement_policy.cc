#include "scheduler/placement_policy.h"

#include <algorithm>

namespace rcuda::sched {

namespace {

struct PolicyName_ {
  Policy policy;
  const char* name;
};

constexpr PolicyName_ kPolicyNames[] = {
    {Policy::kBestFit, "best-fit"},
    {Policy::kSpread, "spread"},
    {Policy::kLeastLoaded, "least-loaded"},
    {Policy::kRoundRobin, "round-robin"},
};

}  // namespace

const char* PolicyName(Policy policy) {
  for (const auto& entry : kPolicyNames) {
    if (entry.policy == policy) return entry.name;
  }
  return "?";
}

Status ParsePolicy(std::string_view text, Policy* policy) {
  for (const auto& entry : kPolicyNames) {
    if (text == entry.name) {
      *policy = entry.policy;
      return Status::Ok();
    }
  }
  return Status::InvalidValue("unknown policy '" + std::string(text) +
                              "' (best-fit, spread, least-loaded or round-robin)");
}

void RankCandidates(Policy policy, const RingCursor& cursor, std::vector<Candidate>* candidates) {
  auto& c = *candidates;
  switch (policy) {
    case Policy::kBestFit:
      std::stable_sort(c.begin(), c.end(),
                       [](const Candidate& a, const Candidate& b) { return a.free_after_bytes < b.free_after_bytes; });
      break;
    case Policy::kSpread:
      std::stable_sort(c.begin(), c.end(),
                       [](const Candidate& a, const Candidate& b) { return a.free_after_bytes > b.free_after_bytes; });
      break;
    case Policy::kLeastLoaded:
      std::stable_sort(c.begin(), c.end(), [](const Candidate& a, const Candidate& b) {
        if (a.load != b.load) return a.load < b.load;
        return a.free_after_bytes > b.free_after_bytes;
      });
      break;
    case Policy::kRoundRobin: {
      if (!cursor.valid) break;
      // The first GPU strictly after the cursor in ring order leads; those at
      // or before it follow, wrapping around.
      auto after = std::find_if(c.begin(), c.end(), [&](const Candidate& x) {
        int by_node = x.node.compare(cursor.node);
        return by_node > 0 || (by_node == 0 && x.gpu > cursor.gpu);
      });
      std::rotate(c.begin(), after, c.end());
      break;
    }
  }
}

}  // namespace rcuda::sched
