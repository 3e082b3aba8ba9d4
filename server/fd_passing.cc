#include "server/fd_passing.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "protocol/fd_message.h"

namespace rcuda {
namespace {

constexpr size_t kMaxFds = kMaxMessageFds;
constexpr size_t kMaxMessage = 64 << 10;

void Put(std::vector<uint8_t>* out, const void* data, size_t size) {
  uint32_t length = static_cast<uint32_t>(size);
  const auto* l = reinterpret_cast<const uint8_t*>(&length);
  out->insert(out->end(), l, l + sizeof length);
  const auto* d = static_cast<const uint8_t*>(data);
  out->insert(out->end(), d, d + size);
}

bool Get(const std::vector<uint8_t>& in, size_t* at, std::vector<uint8_t>* field) {
  uint32_t length;
  if (in.size() - *at < sizeof length) return false;
  std::memcpy(&length, in.data() + *at, sizeof length);
  *at += sizeof length;
  if (in.size() - *at < length) return false;
  field->assign(in.begin() + *at, in.begin() + *at + length);
  *at += length;
  return true;
}

}  // namespace

Status SendSession(int control_fd, const Handoff& h, std::chrono::milliseconds timeout) {
  std::vector<int> fds = h.fds;
  int32_t slot = -1;
  if (h.lease_fd >= 0) {
    fds.push_back(h.lease_fd);  // the last descriptor
    slot = h.lease_slot;
  }
  if (h.fds.empty() || fds.size() > kMaxFds) return Status::InvalidValue("bad descriptor count for a handoff");
  std::vector<uint8_t> payload;
  Put(&payload, h.kind.data(), h.kind.size());
  Put(&payload, h.key.data(), h.key.size());
  Put(&payload, h.hello.data(), h.hello.size());
  Put(&payload, &slot, sizeof slot);
  if (payload.size() > kMaxMessage) return Status::InvalidValue("handoff too large");
  // A SOCK_SEQPACKET socket delivers the message whole or not at all; a
  // full queue makes it wait, here no longer than the timeout.
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    ssize_t n = SendWithFds(control_fd, payload.data(), payload.size(), fds, MSG_DONTWAIT);
    if (n == static_cast<ssize_t>(payload.size())) return Status::Ok();
    if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      return Status::IoError(std::string("handing the connection to its worker failed: ") + std::strerror(errno));
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return Status::Unavailable("the worker does not take the connection (its queue is full)");
    pollfd p{control_fd, POLLOUT, 0};
    poll(&p, 1, static_cast<int>(left.count()));
  }
}

Status ReceiveSession(int control_fd, Handoff* h, bool* closed) {
  *closed = false;
  std::vector<uint8_t> buffer(kMaxMessage);
  ReceivedMessage r = ReceiveWithFds(control_fd, buffer.data(), buffer.size());
  const ssize_t n = r.bytes;
  if (n == 0) {
    r.CloseFds();
    *closed = true;
    return Status::IoError("the daemon closed the control socket");
  }
  if (n < 0) return Status::IoError(std::string("receiving a connection failed: ") + std::strerror(errno));
  if (r.fds.empty() || r.truncated) {
    r.CloseFds();
    return Status::IoError("handoff without descriptors, or cut short");
  }
  h->fds = std::move(r.fds);
  buffer.resize(n);
  size_t at = 0;
  std::vector<uint8_t> kind, key, slot;
  int32_t lease_slot = -1;
  if (!Get(buffer, &at, &kind) || !Get(buffer, &at, &key) || !Get(buffer, &at, &h->hello) ||
      !Get(buffer, &at, &slot) || slot.size() != sizeof lease_slot || at != buffer.size()) {
    for (int fd : h->fds) close(fd);
    return Status::IoError("malformed handoff");
  }
  std::memcpy(&lease_slot, slot.data(), sizeof lease_slot);
  h->lease_fd = -1;
  h->lease_slot = -1;
  if (lease_slot >= 0) {
    if (h->fds.size() < 2) {
      for (int fd : h->fds) close(fd);
      return Status::IoError("malformed handoff");
    }
    h->lease_fd = h->fds.back();
    h->fds.pop_back();
    h->lease_slot = lease_slot;
  }
  h->kind.assign(kind.begin(), kind.end());
  h->key.assign(key.begin(), key.end());
  return Status::Ok();
}

}  // namespace rcuda
