#include "client/device_output.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace rcuda::client {

void WriteDeviceOutput(const uint8_t* bytes, size_t size) {
  if (size == 0) return;
  std::fflush(stdout);
  while (size > 0) {
    ssize_t n = write(STDOUT_FILENO, bytes, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // The program made its stdout non-blocking: wait until it takes more.
      pollfd fd = {STDOUT_FILENO, POLLOUT, 0};
      if (poll(&fd, 1, -1) < 0 && errno != EINTR) return;
      continue;
    }
    if (n <= 0) return;
    bytes += n;
    size -= static_cast<size_t>(n);
  }
}

}  // namespace rcuda::client
