#include "protocol/shm_copy_threads.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace rcuda {
namespace {

// Copies of at least this size are split across the copy threads.
constexpr size_t kParallelCopyMin = 512 << 10;

}  // namespace

ShmCopyThreads& ShmCopyThreads::Get() {
  static ShmCopyThreads* pool = new ShmCopyThreads();  // never destroyed: threads may outlive statics
  return *pool;
}

ShmCopyThreads::ShmCopyThreads() : pid_(getpid()) {
  size_t threads = std::max(1u, std::thread::hardware_concurrency() / 4);
  if (const char* v = std::getenv("RCUDA_SHM_COPY_THREADS")) threads = std::max(1, std::atoi(v));
  helpers_ = std::min<size_t>(threads, 16) - 1;
}

void ShmCopyThreads::Copy(void* dst, const void* src, size_t n) {
  // Small copies (every request and reply) take no lock. One parallel copy
  // at a time per process, and none in a forked child (it has no copy
  // threads); anyone else copies alone.
  if (n < kParallelCopyMin || helpers_ == 0) {
    std::memcpy(dst, src, n);
    return;
  }
  std::unique_lock<std::mutex> busy(busy_, std::try_to_lock);
  if (!busy.owns_lock() || getpid() != pid_) {
    std::memcpy(dst, src, n);
    return;
  }
  EnsureStarted();
  const size_t parts = helpers_ + 1;
  // Pieces of whole cache lines that together cover all n bytes.
  const size_t piece = ((n + parts - 1) / parts + 63) & ~size_t{63};
  {
    std::lock_guard<std::mutex> lock(mu_);
    dst_ = static_cast<char*>(dst);
    src_ = static_cast<const char*>(src);
    size_ = n;
    piece_ = piece;
    pending_ = helpers_;
    ++generation_;
  }
  work_.notify_all();
  std::memcpy(dst, src, std::min(n, piece));  // the caller's part: the first
  std::unique_lock<std::mutex> lock(mu_);
  done_.wait(lock, [&] { return pending_ == 0; });
}

void ShmCopyThreads::EnsureStarted() {
  if (started_) return;
  started_ = true;
  for (size_t i = 0; i < helpers_; ++i) std::thread([this, i] { Run(i + 1); }).detach();
}

void ShmCopyThreads::Run(size_t part) {
  uint64_t seen = 0;
  while (true) {
    std::unique_lock<std::mutex> lock(mu_);
    work_.wait(lock, [&] { return generation_ != seen; });
    seen = generation_;
    char* dst = dst_;
    const char* src = src_;
    const size_t begin = std::min(size_, part * piece_);
    const size_t end = std::min(size_, begin + piece_);
    lock.unlock();
    if (end > begin) std::memcpy(dst + begin, src + begin, end - begin);
    lock.lock();
    if (--pending_ == 0) done_.notify_one();
  }
}

}  // namespace rcuda
