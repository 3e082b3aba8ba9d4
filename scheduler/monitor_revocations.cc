#include "scheduler/monitor_revocations.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

#include "scheduler/wire.h"

namespace rcuda::sched {

MonitorRevocations::MonitorRevocations(std::string path) : path_(std::move(path)) {
  std::ifstream file(path_, std::ios::binary);
  if (!file) return;
  std::ostringstream text;
  text << file.rdbuf();
  RevokedLeases kept;
  if (ParseRevokedLeases(text.str(), ::time(nullptr), &kept).ok()) revoked_ = std::move(kept);
}

void MonitorRevocations::AddRequestFields(Json* report) const {
  report->Set("revoked_after", seq_);
  report->Set("revoked_epoch", epoch_);
}

Status MonitorRevocations::TakeReply(const Json& reply, int64_t now_unix, bool* more) {
  *more = false;
  const Json* revoked = reply.Find("revoked");
  if (!revoked) return Status::Ok();  // an ssgmd that does not send revocations
  std::string epoch;
  int64_t seq = 0;
  bool has_more = false;
  RCUDA_RETURN_IF_ERROR(GetString(*revoked, "epoch", &epoch));
  RCUDA_RETURN_IF_ERROR(GetInt(*revoked, "seq", &seq));
  RCUDA_RETURN_IF_ERROR(GetOptionalBool(*revoked, "more", &has_more));
  const Json* leases = revoked->Find("leases");
  if (!leases || !leases->is_array() || seq < 0 || !IsPrintableText(epoch, 64)) {
    return Status::InvalidValue("ssgmd sent malformed revocations");
  }
  for (const Json& item : leases->items()) {
    std::string lease;
    int64_t until = 0;
    RCUDA_RETURN_IF_ERROR(GetString(item, "lease", &lease));
    RCUDA_RETURN_IF_ERROR(GetInt(item, "until_unix", &until));
    if (!IsValidLeaseId(lease)) return Status::InvalidValue("ssgmd sent a bad lease id in its revocations");
    if (until <= now_unix) continue;
    if (revoked_.size() >= kMaxRevokedLeases && !revoked_.count(lease)) {
      return Status::InvalidValue("more than " + std::to_string(kMaxRevokedLeases) + " revoked leases");
    }
    int64_t& kept = revoked_[lease];
    if (until > kept) {
      kept = until;
      dirty_ = true;
    }
  }
  epoch_ = epoch;
  seq_ = uint64_t(seq);
  *more = has_more;
  return Status::Ok();
}

Status MonitorRevocations::Write(int64_t now_unix) {
  size_t before = revoked_.size();
  std::erase_if(revoked_, [&](const auto& entry) { return entry.second <= now_unix; });
  if (revoked_.size() != before) dirty_ = true;
  struct stat info {};
  if (!dirty_ && ::stat(path_.c_str(), &info) == 0) return Status::Ok();
  std::string temp = path_ + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << FormatRevokedLeases(revoked_);
    out.flush();
    if (!out) {
      std::remove(temp.c_str());
      return Status::IoError("cannot write " + temp);
    }
  }
  if (std::rename(temp.c_str(), path_.c_str()) != 0) {
    Status s = Status::IoError("cannot rename " + temp + " to " + path_ + ": " + std::strerror(errno));
    std::remove(temp.c_str());
    return s;
  }
  dirty_ = false;
  return Status::Ok();
}

}  // namespace rcuda::sched
