// A few threads that share large copies into and out of the shared-memory
// rings: one core's memcpy is well below a server's memory bandwidth, and
// every byte of a bulk transfer is copied on both sides.
// RCUDA_SHM_COPY_THREADS sets how many threads copy (the caller included; 1:
// the caller alone); by default a quarter of the cores, at most 16.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>

namespace rcuda {

class ShmCopyThreads {
 public:
  static ShmCopyThreads& Get();

  // Copies n bytes, split across the threads when n is large enough.
  void Copy(void* dst, const void* src, size_t n);

 private:
  ShmCopyThreads();
  void EnsureStarted();
  void Run(size_t part);

  const pid_t pid_;
  size_t helpers_ = 0;
  bool started_ = false;  // under busy_
  std::mutex busy_;
  std::mutex mu_;
  std::condition_variable work_, done_;
  uint64_t generation_ = 0;
  char* dst_ = nullptr;
  const char* src_ = nullptr;
  size_t size_ = 0, piece_ = 0, pending_ = 0;
};

}  // namespace rcuda
