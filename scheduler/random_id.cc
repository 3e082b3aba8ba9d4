#include "scheduler/random_id.h"

#include <sys/random.h>

#include <cerrno>
#include <cstdint>
#include <stdexcept>
#include <vector>

namespace rcuda::sched {

std::string RandomHex(size_t bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::vector<uint8_t> buffer(bytes);
  size_t filled = 0;
  while (filled < bytes) {
    ssize_t n = getrandom(buffer.data() + filled, bytes - filled, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      // Without the kernel's random source there is no safe fallback.
      throw std::runtime_error("getrandom failed");
    }
    filled += size_t(n);
  }
  std::string out;
  out.reserve(bytes * 2);
  for (uint8_t b : buffer) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

}  // namespace rcuda::sched
