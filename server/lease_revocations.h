// The leases whose tokens this server no longer honours: leases released
// before their tokens expired (protocol/lease_token.h, "Revoked leases").
// rcuda-gpu-monitor keeps the file up to date from ssgmd; the daemon checks
// each new session's lease against it, and ends the running sessions of a
// lease as soon as the lease shows up in it.
//
// The file is re-read when it changes (its size, modification time or inode
// differ), at most once per Refresh(). A file that cannot be read or parsed
// leaves the last good list in force (revocations are never dropped because
// of a bad write), and so does a missing file: entries leave only when their
// time passes.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include "common/status.h"
#include "protocol/lease_token.h"

namespace rcuda {

class LeaseRevocations {
 public:
  explicit LeaseRevocations(std::string path);

  // Re-reads the file if it changed. Thread-safe.
  void Refresh();
  // Whether `lease_id` is revoked now. An empty id (no token) never is. Thread-safe.
  bool IsRevoked(std::string_view lease_id);
  // For a running session: true the first time its lease is found revoked
  // (the caller then ends it), false after that and for other sessions.
  bool ShouldEnd(pid_t worker_pid, std::string_view lease_id);
  // Forgets a session that ended.
  void SessionEnded(pid_t worker_pid);

  size_t size();
  const std::string& path() const { return path_; }

 private:
  void Load();  // needs mu_

  const std::string path_;
  std::mutex mu_;
  // Guarded by mu_:
  RevokedLeases revoked_;
  std::set<pid_t> ended_;
  struct FileIdentity {
    bool present = false;
    ino_t inode = 0;
    off_t size = 0;
    int64_t mtime_ns = 0;
    bool operator==(const FileIdentity&) const = default;
  } seen_;
  std::string last_problem_;  // logged once until it changes
};

}  // namespace rcuda
