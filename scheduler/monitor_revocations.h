// The monitor's side of revoked leases: it asks ssgmd, with each report, for
// the leases of its node released since it last asked, keeps them until their
// tokens expire, and writes them to the file rcuda-server reads
// (--revoked-leases-file; format: protocol/lease_token.h). The file is read at
// start, so a restarted monitor drops nothing, and rewritten (atomically)
// whenever the list changes or the file is gone.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "protocol/lease_token.h"
#include "scheduler/json.h"

namespace rcuda::sched {

class MonitorRevocations {
 public:
  explicit MonitorRevocations(std::string path);

  // Adds what the report asks for: the revocations after the last one held.
  void AddRequestFields(Json* report) const;
  // Takes ssgmd's reply to a report. *more: ssgmd has more to send (ask again now).
  Status TakeReply(const Json& reply, int64_t now_unix, bool* more);
  // Drops expired entries; writes the file when the list changed or the file is gone.
  Status Write(int64_t now_unix);

  size_t size() const { return revoked_.size(); }

 private:
  std::string path_;
  RevokedLeases revoked_;
  std::string epoch_;  // the ssgmd run the sequence number belongs to
  uint64_t seq_ = 0;
  bool dirty_ = true;
};

}  // namespace rcuda::sched
