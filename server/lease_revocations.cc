#include "server/lease_revocations.h"

#include <sys/stat.h>

#include <spdlog/spdlog.h>

#include <ctime>
#include <fstream>
#include <sstream>

namespace rcuda {

namespace {

int64_t NowUnix() { return static_cast<int64_t>(std::time(nullptr)); }

}  // namespace

LeaseRevocations::LeaseRevocations(std::string path) : path_(std::move(path)) {
  std::lock_guard lock(mu_);
  Load();
}

void LeaseRevocations::Refresh() {
  std::lock_guard lock(mu_);
  Load();
}

void LeaseRevocations::Load() {
  struct stat info {};
  FileIdentity now_seen;
  if (::stat(path_.c_str(), &info) == 0) {
    now_seen.present = true;
    now_seen.inode = info.st_ino;
    now_seen.size = info.st_size;
    now_seen.mtime_ns = int64_t(info.st_mtim.tv_sec) * 1'000'000'000 + info.st_mtim.tv_nsec;
  }
  if (now_seen == seen_) return;
  seen_ = now_seen;
  std::string problem;
  if (!now_seen.present) {
    problem = "not there (yet): no lease is revoked beyond the " + std::to_string(revoked_.size()) + " known";
  } else if (size_t(info.st_size) > kMaxRevokedLeasesFileBytes) {
    problem = "larger than " + std::to_string(kMaxRevokedLeasesFileBytes) + " bytes; keeping the last good list";
  } else {
    std::ifstream file(path_, std::ios::binary);
    std::ostringstream text;
    text << file.rdbuf();
    RevokedLeases parsed;
    Status s = file ? ParseRevokedLeases(text.str(), NowUnix(), &parsed) : Status::IoError("cannot read it");
    if (s.ok()) {
      if (parsed.size() != revoked_.size()) spdlog::info("revoked leases ({}): {} in force", path_, parsed.size());
      revoked_ = std::move(parsed);
      last_problem_.clear();
      return;
    }
    problem = s.message() + "; keeping the last good list";
  }
  if (problem != last_problem_) spdlog::warn("revoked leases file {}: {}", path_, problem);
  last_problem_ = problem;
}

bool LeaseRevocations::IsRevoked(std::string_view lease_id) {
  if (lease_id.empty()) return false;
  std::lock_guard lock(mu_);
  auto found = revoked_.find(lease_id);
  return found != revoked_.end() && found->second > NowUnix();
}

bool LeaseRevocations::ShouldEnd(pid_t worker_pid, std::string_view lease_id) {
  if (!IsRevoked(lease_id)) return false;
  std::lock_guard lock(mu_);
  return ended_.insert(worker_pid).second;
}

void LeaseRevocations::SessionEnded(pid_t worker_pid) {
  std::lock_guard lock(mu_);
  ended_.erase(worker_pid);
}

size_t LeaseRevocations::size() {
  std::lock_guard lock(mu_);
  return revoked_.size();
}

}  // namespace rcuda
