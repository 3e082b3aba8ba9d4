// Session: host segments, the program's pinned memory shared with the
// session's worker over the shared-memory transport (protocol/host_segment.h).
#include "client/session.h"
#include "protocol/host_segment.h"

namespace rcuda::client {

bool Session::SharesHostMemory() {
  MutexLock lock(&mu_);
  if (!ConnectLocked().ok()) return false;
  return connection_ && connection_->Kind() == "shm";
}

Status Session::HostSegmentMap(int fd, uint64_t size, int64_t* segment) {
  MutexLock lock(&mu_);
  RCUDA_RETURN_IF_ERROR(ConnectLocked());
  if (!connection_ || connection_->Kind() != "shm") {
    return Status::Cuda(cudaErrorNotSupported, "host segments need the shared-memory transport");
  }
  // The fd goes first, over the Unix socket, then the request names it by
  // its token: under mu_, so that the worker finds them in the same order.
  const uint64_t token = ++next_segment_token_;
  Status s = SendHostSegment(connection_->NativeHandle(), fd, token);
  if (!s.ok()) return BreakLocked(s);
  const std::vector<int64_t> args{static_cast<int64_t>(token), static_cast<int64_t>(size)};
  std::vector<int64_t> values;
  s = CallGenericLocked(CallOp::kHostSegmentMap, args, 1, &values);
  if (s.ok()) *segment = values[0];
  return s;
}

}  // namespace rcuda::client
