#include "server/device_output.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace rcuda {
namespace {

Status Errno(const char* what) { return Status::IoError(std::string(what) + ": " + std::strerror(errno)); }

}  // namespace

Status DeviceOutput::Capture(uint64_t cap_bytes, std::unique_ptr<DeviceOutput>* out) {
  int data[2], stop[2];
  if (pipe2(data, O_CLOEXEC) != 0) return Errno("pipe2");
  if (pipe2(stop, O_CLOEXEC) != 0) {
    Status s = Errno("pipe2");
    close(data[0]);
    close(data[1]);
    return s;
  }
  // Whatever the process's stdio holds goes where it was meant to, first.
  std::fflush(stdout);
  int saved = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
  Status s;
  if (saved < 0) {
    s = Errno("dup of fd 1");
  } else if (fcntl(data[0], F_SETFL, O_NONBLOCK) != 0) {
    s = Errno("fcntl O_NONBLOCK");
  } else if (dup2(data[1], STDOUT_FILENO) < 0) {
    s = Errno("dup2 onto fd 1");
  }
  close(data[1]);  // fd 1 is now the pipe's only write end
  if (!s.ok()) {
    if (saved >= 0) close(saved);
    for (int fd : {data[0], stop[0], stop[1]}) close(fd);
    return s;
  }
  out->reset(new DeviceOutput(cap_bytes, data[0], saved, stop[0], stop[1]));
  return Status::Ok();
}

DeviceOutput::DeviceOutput(uint64_t cap_bytes, int read_fd, int saved_stdout, int stop_read, int stop_write)
    : cap_bytes_(cap_bytes),
      read_fd_(read_fd),
      saved_stdout_(saved_stdout),
      stop_read_(stop_read),
      stop_write_(stop_write) {
  thread_ = std::thread([this] { DrainLoop(); });
}

DeviceOutput::~DeviceOutput() {
  // fd 1 back first: a driver thread still writing then writes to the
  // original stdout, never into a pipe nobody reads.
  std::fflush(stdout);
  dup2(saved_stdout_, STDOUT_FILENO);
  close(stop_write_);  // the drain thread sees the end of the stop pipe
  thread_.join();
  for (int fd : {read_fd_, saved_stdout_, stop_read_}) close(fd);
}

void DeviceOutput::DrainLoop() {
  while (true) {
    pollfd fds[2] = {{read_fd_, POLLIN, 0}, {stop_read_, POLLIN, 0}};
    int n = poll(fds, 2, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents) return;  // stopping
    if (fds[0].revents & POLLIN) {
      MutexLock lock(&mu_);
      ReadAvailable();
    } else if (fds[0].revents & (POLLHUP | POLLERR | POLLNVAL)) {
      return;  // no writer left (fd 1 was replaced)
    }
  }
}

void DeviceOutput::ReadAvailable() {
  char chunk[16384];
  while (true) {
    ssize_t n = read(read_fd_, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // drained (EAGAIN), or no writer left
    const uint64_t room = buffer_.size() < cap_bytes_ ? cap_bytes_ - buffer_.size() : 0;
    const uint64_t keep = std::min<uint64_t>(room, static_cast<uint64_t>(n));
    buffer_.append(chunk, keep);
    dropped_ += static_cast<uint64_t>(n) - keep;
  }
}

std::string DeviceOutput::DroppedMarker(uint64_t dropped, uint64_t cap_bytes) {
  return "[rcuda: " + std::to_string(dropped) +
         " bytes of device output dropped: more than the session's cap of " + std::to_string(cap_bytes / 1024) +
         " KiB between two synchronizations (rcuda-server --session-device-output-kib)]\n";
}

std::string DeviceOutput::Take() {
  // The driver may write through C stdio (buffered: stdout is a pipe now).
  std::fflush(stdout);
  MutexLock lock(&mu_);
  ReadAvailable();
  std::string out;
  out.swap(buffer_);
  if (dropped_) {
    if (!out.empty() && out.back() != '\n') out += '\n';
    out += DroppedMarker(dropped_, cap_bytes_);
    dropped_ = 0;
  }
  return out;
}

}  // namespace rcuda
