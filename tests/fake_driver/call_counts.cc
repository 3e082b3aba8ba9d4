// TEST EQUIPMENT: the fake CUDA driver's call counts (call_counts.h).
#include "tests/fake_driver/call_counts.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "tests/fake_driver/driver_state.h"

namespace fake {
namespace {

std::atomic<std::atomic<uint64_t>*> counters{nullptr};

}  // namespace

void OpenCallCounts() {
  const char* dir = std::getenv(kCallCountsEnv);
  if (!dir || !*dir || counters.load()) return;
  const std::string path = CallCountsPath(dir, static_cast<long>(getpid()));
  const size_t bytes = sizeof(uint64_t) * kCallCountSlots;
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
    Log("%s: cannot create %s: %s", kCallCountsEnv, path.c_str(), std::strerror(errno));
    if (fd >= 0) close(fd);
    return;
  }
  void* map = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  if (map == MAP_FAILED) {
    Log("%s: cannot map %s: %s", kCallCountsEnv, path.c_str(), std::strerror(errno));
    return;
  }
  static_assert(sizeof(std::atomic<uint64_t>) == sizeof(uint64_t) && std::atomic<uint64_t>::is_always_lock_free);
  counters.store(static_cast<std::atomic<uint64_t>*>(map));
}

void CountCall(int slot) {
  std::atomic<uint64_t>* c = counters.load(std::memory_order_relaxed);
  if (c && slot >= 0 && slot < kCallCountSlots) c[slot].fetch_add(1, std::memory_order_relaxed);
}

}  // namespace fake
