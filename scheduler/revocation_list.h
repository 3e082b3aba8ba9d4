// Leases released before their expiry, whose tokens the servers must stop
// honouring (a token is valid until the expiry it carries, and a released
// lease's holder may have passed it on). ssgmd keeps each entry until the
// last token of the lease would have expired anyway, which bounds the list
// by time: releases within one time to live. Each node's monitor fetches the
// entries that name its node, incrementally (a sequence number, valid within
// one ssgmd run: its epoch), and writes them where rcuda-server reads them
// (docs/scheduler.md, "Revoked leases").
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "scheduler/cluster_types.h"
#include "scheduler/scheduler.h"

namespace rcuda::sched {

struct Revocation {
  std::string lease_id;
  std::vector<std::string> nodes;  // the nodes of the lease's grants
  int64_t until_unix = 0;          // its tokens expire by then (they carry whole seconds)
  uint64_t seq = 0;
};

class RevocationList {
 public:
  // `epoch` names this run of ssgmd (random): sequence numbers restart with it.
  explicit RevocationList(std::string epoch);

  // A lease released at `now_ms`: revoked until its tokens expire.
  void Add(const Lease& lease, int64_t now_ms);
  // Journal replay and snapshots.
  void Restore(const std::string& lease_id, std::vector<std::string> nodes, int64_t until_unix);
  // Forgets entries whose tokens have expired.
  void Prune(int64_t now_ms);

  // Entries naming `node` with a sequence number above `after`, at most
  // `limit`. *next_after: what to ask after next time; *more: entries were left
  // for the next call.
  std::vector<const Revocation*> Since(std::string_view node, uint64_t after, size_t limit, uint64_t* next_after,
                                       bool* more) const;

  const std::string& epoch() const { return epoch_; }
  uint64_t last_seq() const { return next_seq_ - 1; }
  size_t size() const { return by_seq_.size(); }
  const std::map<uint64_t, Revocation>& entries() const { return by_seq_; }

 private:
  std::string epoch_;
  uint64_t next_seq_ = 1;
  std::map<uint64_t, Revocation> by_seq_;
  std::set<std::pair<int64_t, uint64_t>> by_until_;  // (until_unix, seq), to prune
};

// Whether a lease that ended leaves tokens that are still valid: it was
// released, or it expired after a renewal had shortened it.
bool EndRevokesTokens(const Lease& lease, LeaseEnd why);

// Revokes the tokens of each lease that ends while they may be valid, then
// tells `next` (the journal; may be null).
class RevokingObserver : public StateObserver {
 public:
  RevokingObserver(RevocationList* revocations, StateObserver* next, std::function<int64_t()> now_ms)
      : revocations_(revocations), next_(next), now_ms_(std::move(now_ms)) {}
  void LeaseGranted(const Lease& lease) override {
    if (next_) next_->LeaseGranted(lease);
  }
  void LeaseRenewed(const Lease& lease) override {
    if (next_) next_->LeaseRenewed(lease);
  }
  void LeaseEnded(const Lease& lease, LeaseEnd why) override {
    if (EndRevokesTokens(lease, why)) revocations_->Add(lease, now_ms_());
    if (next_) next_->LeaseEnded(lease, why);
  }

 private:
  RevocationList* revocations_;
  StateObserver* next_;
  std::function<int64_t()> now_ms_;
};

// When a lease's tokens expire: the token carries whole seconds, rounded up.
int64_t TokenExpiryUnix(int64_t expires_ms);
// The distinct nodes of a lease's grants.
std::vector<std::string> LeaseNodes(const Lease& lease);

}  // namespace rcuda::sched
