// What ssgmd writes in its journal, and how it reads it back: one record per
// lease change, so that after a crash (kill -9 included) the leases are
// exactly those whose grant was durable and not yet ended. A reply that
// depends on a record leaves ssgmd only after the record is durable
// (ssgmd_service.cc), so no holder has a lease the journal lacks.
//
//   {"t":"grant","lease":{...}}                            a new lease
//   {"t":"renew","id":"...","expires_ms":...,"ttl_ms":...}
//   {"t":"end","id":"...","why":"released"|"expired"}      a release revokes the lease's tokens
//   {"t":"revoked","id":"...","nodes":[...],"until_unix":...}  a revocation still in force (snapshots)
//   {"t":"snapshot","leases":N,"at_ms":...}               first record of a compacted journal
// A grant's lease carries the hash of its holder's secret (lease_secret.h),
// never the secret, so a restarted ssgmd still knows who may renew and
// release it.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "scheduler/journal.h"
#include "scheduler/revocation_list.h"
#include "scheduler/scheduler.h"

namespace rcuda::sched {

std::string GrantRecord(const Lease& lease);
std::string RenewRecord(const Lease& lease);
std::string EndRecord(const Lease& lease, LeaseEnd why);
std::string RevokedRecord(const Revocation& revocation);
// The records that recreate the scheduler's current leases and the
// revocations in force (`revocations` may be null).
std::vector<std::string> SnapshotRecords(const Scheduler& scheduler, const RevocationList* revocations,
                                         int64_t now_ms);

struct ReplayStats {
  size_t records = 0;
  size_t grants = 0;
  size_t ends = 0;
  size_t renews = 0;
  size_t revocations = 0;
};
// Applies the records, in order, to a fresh scheduler (and its revocations,
// when `revocations` is not null). A record that does not parse, or holds
// values out of range, fails the replay (Corruption) and names the record.
Status ReplayJournal(const std::vector<std::string>& records, Scheduler* scheduler, RevocationList* revocations,
                     ReplayStats* stats);

// Journals every lease change the scheduler makes. `on_append` runs after
// each append (ssgmd uses it to schedule the group-commit flush).
class JournalObserver : public StateObserver {
 public:
  JournalObserver(Journal* journal, std::function<void()> on_append)
      : journal_(journal), on_append_(std::move(on_append)) {}
  void LeaseGranted(const Lease& lease) override { Append(GrantRecord(lease)); }
  void LeaseRenewed(const Lease& lease) override { Append(RenewRecord(lease)); }
  void LeaseEnded(const Lease& lease, LeaseEnd why) override { Append(EndRecord(lease, why)); }

 private:
  void Append(const std::string& record) {
    journal_->Append(record);
    if (on_append_) on_append_();
  }
  Journal* journal_;
  std::function<void()> on_append_;
};

}  // namespace rcuda::sched
