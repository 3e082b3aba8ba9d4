#include "protocol/host_segment.h"

#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "protocol/fd_message.h"

namespace rcuda {
namespace {

struct SegmentMessage {
  uint32_t magic;
  uint32_t reserved;
  uint64_t token;
};

// Messages of other tokens dropped before a receive gives up.
constexpr int kMaxStaleMessages = 8;

std::string Errno(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

}  // namespace

Status CreateHostSegment(uint64_t size, int* fd, void** mapping) {
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  if (size == 0 || size % page != 0) return Status::InvalidValue("a host segment is a positive number of pages");
  int f = memfd_create("rcuda-pinned", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (f < 0) return Status::IoError(Errno("memfd_create"));
  if (ftruncate(f, static_cast<off_t>(size)) != 0 ||
      fcntl(f, F_ADD_SEALS, kHostSegmentRequiredSeals | F_SEAL_SEAL) != 0) {
    Status st = Status::IoError(Errno("host segment"));
    close(f);
    return st;
  }
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
  if (p == MAP_FAILED) {
    Status st = Status::IoError(Errno("mmap"));
    close(f);
    return st;
  }
  *fd = f;
  *mapping = p;
  return Status::Ok();
}

Status SendHostSegment(int socket_fd, int segment_fd, uint64_t token) {
  SegmentMessage m{kHostSegmentMagic, 0, token};
  const int fds[] = {segment_fd};
  if (SendWithFds(socket_fd, &m, sizeof m, fds) != static_cast<ssize_t>(sizeof m)) {
    return Status::IoError(Errno("sending a host segment"));
  }
  return Status::Ok();
}

Status ReceiveHostSegment(int socket_fd, uint64_t token, int* segment_fd) {
  *segment_fd = -1;
  for (int attempt = 0; attempt <= kMaxStaleMessages; ++attempt) {
    SegmentMessage m{};
    ReceivedMessage r = ReceiveWithFds(socket_fd, &m, sizeof m, MSG_DONTWAIT);
    if (r.bytes < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return Status::InvalidValue("no host segment came with the request");
    }
    if (r.bytes <= 0) {
      r.CloseFds();
      return Status::IoError("the client's socket closed before its host segment came");
    }
    const bool whole = r.bytes == static_cast<ssize_t>(sizeof m) && !r.truncated;
    if (r.fds.size() == 1 && whole && m.magic == kHostSegmentMagic && m.token == token) {
      *segment_fd = r.fds[0];
      return Status::Ok();
    }
    r.CloseFds();  // another request's, or garbage: never mapped
  }
  return Status::InvalidValue("no host segment came with the request's token");
}

Status MapHostSegment(int fd, uint64_t size, void** mapping) {
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || static_cast<uint64_t>(st.st_size) != size) {
    return Status::InvalidValue("host segment of the wrong kind or size");
  }
  int seals = fcntl(fd, F_GET_SEALS);
  if (seals < 0 || (seals & kHostSegmentRequiredSeals) != kHostSegmentRequiredSeals) {
    return Status::InvalidValue("host segment not sealed against resizing (seals " + std::to_string(seals) + ")");
  }
  // Sealed now: the size cannot change any more; look again in case it did
  // between the first look and the seals.
  if (fstat(fd, &st) != 0 || static_cast<uint64_t>(st.st_size) != size) {
    return Status::InvalidValue("host segment of the wrong size");
  }
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return Status::IoError(Errno("mapping a host segment"));
  *mapping = p;
  return Status::Ok();
}

}  // namespace rcuda
