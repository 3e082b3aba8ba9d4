#include "server/fd_passing.h"

#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace rcuda {

Status SendSession(int control_fd, int client_fd, const std::string& key, std::span<const uint8_t> hello) {
  uint32_t key_length = static_cast<uint32_t>(key.size());
  uint32_t length = static_cast<uint32_t>(hello.size());
  iovec iov[4] = {{&key_length, sizeof key_length},
                  {const_cast<char*>(key.data()), key.size()},
                  {&length, sizeof length},
                  {const_cast<uint8_t*>(hello.data()), hello.size()}};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = 4;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(cmsg), &client_fd, sizeof(int));
  // A SOCK_SEQPACKET socket delivers the message whole or not at all.
  ssize_t n = sendmsg(control_fd, &msg, MSG_NOSIGNAL);
  if (n != static_cast<ssize_t>(2 * sizeof length + key.size() + hello.size())) {
    return Status::IoError(std::string("handing the session to its worker failed: ") + std::strerror(errno));
  }
  return Status::Ok();
}

Status ReceiveSession(int control_fd, int* client_fd, std::string* key, std::vector<uint8_t>* hello, bool* closed) {
  *closed = false;
  std::vector<uint8_t> buffer(2 * sizeof(uint32_t) + 256 + (1 << 16));
  iovec iov{buffer.data(), buffer.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = recvmsg(control_fd, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n == 0) {
    *closed = true;
    return Status::IoError("the daemon closed the control socket");
  }
  if (n < static_cast<ssize_t>(sizeof(uint32_t))) {
    return Status::IoError(std::string("receiving a session failed: ") + std::strerror(errno));
  }
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  if (!cmsg || cmsg->cmsg_type != SCM_RIGHTS) return Status::IoError("session message without a descriptor");
  std::memcpy(client_fd, CMSG_DATA(cmsg), sizeof(int));
  uint32_t key_length, length;
  std::memcpy(&key_length, buffer.data(), sizeof key_length);
  size_t at = sizeof key_length;
  if (key_length > 256 || at + key_length + sizeof length > static_cast<size_t>(n)) {
    return Status::IoError("truncated session message");
  }
  key->assign(reinterpret_cast<const char*>(buffer.data()) + at, key_length);
  at += key_length;
  std::memcpy(&length, buffer.data() + at, sizeof length);
  at += sizeof length;
  if (length != n - at) return Status::IoError("truncated session message");
  hello->assign(buffer.begin() + at, buffer.begin() + n);
  return Status::Ok();
}

}  // namespace rcuda
