#include "scheduler/revocation_list.h"

#include <algorithm>

namespace rcuda::sched {

int64_t TokenExpiryUnix(int64_t expires_ms) { return (expires_ms + 999) / 1000; }

bool EndRevokesTokens(const Lease& lease, LeaseEnd why) {
  return why == LeaseEnd::kReleased || lease.tokens_until_ms > lease.expires_ms;
}

std::vector<std::string> LeaseNodes(const Lease& lease) {
  std::vector<std::string> nodes;
  for (const Grant& grant : lease.grants) {
    if (std::find(nodes.begin(), nodes.end(), grant.node) == nodes.end()) nodes.push_back(grant.node);
  }
  return nodes;
}

RevocationList::RevocationList(std::string epoch) : epoch_(std::move(epoch)) {}

void RevocationList::Add(const Lease& lease, int64_t now_ms) {
  int64_t until = TokenExpiryUnix(std::max(lease.expires_ms, lease.tokens_until_ms));
  if (until * 1000 <= now_ms) return;  // its tokens are dead already
  Restore(lease.id, LeaseNodes(lease), until);
}

void RevocationList::Restore(const std::string& lease_id, std::vector<std::string> nodes, int64_t until_unix) {
  uint64_t seq = next_seq_++;
  by_seq_.emplace(seq, Revocation{lease_id, std::move(nodes), until_unix, seq});
  by_until_.emplace(until_unix, seq);
}

void RevocationList::Prune(int64_t now_ms) {
  while (!by_until_.empty() && by_until_.begin()->first * 1000 <= now_ms) {
    by_seq_.erase(by_until_.begin()->second);
    by_until_.erase(by_until_.begin());
  }
}

std::vector<const Revocation*> RevocationList::Since(std::string_view node, uint64_t after, size_t limit,
                                                     uint64_t* next_after, bool* more) const {
  std::vector<const Revocation*> found;
  limit = std::max<size_t>(limit, 1);
  *more = false;
  *next_after = std::max(after, last_seq());
  for (auto it = by_seq_.upper_bound(after); it != by_seq_.end(); ++it) {
    const Revocation& entry = it->second;
    if (std::find(entry.nodes.begin(), entry.nodes.end(), node) == entry.nodes.end()) continue;
    if (found.size() == limit) {
      *more = true;
      *next_after = found.back()->seq;
      break;
    }
    found.push_back(&entry);
  }
  return found;
}

}  // namespace rcuda::sched
