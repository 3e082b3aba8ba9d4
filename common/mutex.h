// A std::mutex that Clang's thread-safety analysis knows as a capability
// (common/thread_annotations.h), and its scoped lock. libstdc++'s own types
// carry no annotations. Mutex is BasicLockable, so std::condition_variable_any
// waits on it (and std::lock_guard takes it, unchecked by the analysis).
#pragma once

#include <mutex>

#include "common/thread_annotations.h"

namespace rcuda {

class CAPABILITY("mutex") Mutex {
 public:
  void lock() ACQUIRE() { mu_.lock(); }
  void unlock() RELEASE() { mu_.unlock(); }

 private:
  std::mutex mu_;
};

class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ACQUIRE(mu) : mu_(mu) { mu_->lock(); }
  ~MutexLock() RELEASE() { mu_->unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

}  // namespace rcuda
