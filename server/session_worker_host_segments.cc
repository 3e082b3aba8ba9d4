// SessionWorker: the client's pinned host memory over the shared-memory
// transport (protocol/host_segment.h). A segment is mapped from the client's
// sealed memfd, registered with the driver, and capped per session
// (--session-pinned-bytes, SessionCaps::kMaxHostSegments); copies name
// (segment, offset, size), checked against the segment before the driver
// sees an address.
#include <sys/mman.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "common/cuda_error_codes.h"
#include "protocol/host_segment.h"
#include "server/session_worker.h"

namespace rcuda {

Status SessionWorker::OnHostSegmentMap(int64_t token, int64_t size, int64_t* segment) {
  if (connection_->Kind() != "shm") {
    return Status::Cuda(kCudaErrorNotSupported, "host segments need the shared-memory transport");
  }
  // The fd first, whatever the answer: a refused request must not leave its
  // fd queued in front of the next one's.
  int fd = -1;
  RCUDA_RETURN_IF_ERROR(ReceiveHostSegment(connection_->NativeHandle(), static_cast<uint64_t>(token), &fd));
  const uint64_t bytes = static_cast<uint64_t>(size);
  Status s = size > 0 ? host_segments_.CheckRoom(bytes)
                      : Status::Cuda(kCudaErrorInvalidValue, "a host segment of " + std::to_string(size) + " bytes");
  void* host = nullptr;
  if (s.ok()) s = MapHostSegment(fd, bytes, &host);
  close(fd);  // the mapping keeps the memory
  if (!s.ok()) return s;
  s = executor_->RegisterHostMemory(host, bytes);
  if (!s.ok()) {
    munmap(host, bytes);
    return s;
  }
  *segment = static_cast<int64_t>(host_segments_.Add(HostSegment{host, bytes}));
  return Status::Ok();
}

Status SessionWorker::OnHostSegmentUnmap(int64_t segment) {
  HostSegment s;
  if (!host_segments_.Remove(static_cast<uint64_t>(segment), &s)) {
    return Status::Cuda(kCudaErrorInvalidValue, "host segment " + std::to_string(segment) + " is not the session's");
  }
  Status st = executor_->UnregisterHostMemory(s.host);
  munmap(s.host, s.size);
  return st;
}

Status SessionWorker::CopySegment(uint64_t device, int64_t segment, int64_t offset, int64_t size, int64_t to_device,
                                  uint64_t stream, bool wait) {
  void* host = nullptr;
  RCUDA_RETURN_IF_ERROR(host_segments_.Resolve(static_cast<uint64_t>(segment), static_cast<uint64_t>(offset),
                                               static_cast<uint64_t>(size), &host));
  if (size == 0) return Status::Ok();
  return executor_->CopyRegistered(device, host, static_cast<uint64_t>(size), to_device != 0, stream, wait);
}

Status SessionWorker::OnSegmentCopy(uint64_t device, int64_t segment, int64_t offset, int64_t size, int64_t to_device,
                                    uint64_t stream) {
  return CopySegment(device, segment, offset, size, to_device, stream, /*wait=*/false);
}

Status SessionWorker::OnSegmentCopySync(uint64_t device, int64_t segment, int64_t offset, int64_t size,
                                        int64_t to_device, uint64_t stream) {
  return CopySegment(device, segment, offset, size, to_device, stream, /*wait=*/true);
}

Status SessionWorker::OnHostSegmentDevicePointer(int64_t segment, int64_t* ptr) {
  void* host = nullptr;
  RCUDA_RETURN_IF_ERROR(host_segments_.Resolve(static_cast<uint64_t>(segment), 0, 0, &host));
  uint64_t device = 0;
  RCUDA_RETURN_IF_ERROR(executor_->RegisteredDevicePointer(host, &device));
  *ptr = static_cast<int64_t>(device);
  return Status::Ok();
}

void SessionWorker::ReleaseHostSegments() {
  for (const HostSegment& s : host_segments_.TakeAll()) {
    if (executor_) {
      Status st = executor_->UnregisterHostMemory(s.host);
      if (!st.ok()) spdlog::warn("releasing a host segment: {}", st.message());
    }
    munmap(s.host, s.size);
  }
}

}  // namespace rcuda
