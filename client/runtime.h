// The process-wide state of the client library: the virtual devices (one
// Session each, from RCUDA_DEVICE_COUNT / RCUDA_DEVICE_<i>), the calling
// thread's current device, and host memory the program allocated through
// CUDA (cudaMallocHost), which stays on the client.
#pragma once

#include <cuda_runtime_api.h>

#include <memory>
#include <mutex>
#include <map>
#include <unordered_map>
#include <vector>

#include "client/session.h"
#include "common/status.h"

namespace rcuda::client {

class Runtime {
 public:
  static Runtime& Get();

  int device_count() const { return static_cast<int>(sessions_.size()); }
  // The configuration error, if RCUDA_DEVICE_* could not be parsed.
  const Status& config_status() const { return config_status_; }

  // nullptr when `device` is out of range.
  Session* session(int device) const;
  // The calling thread's current device (cudaSetDevice), 0 by default.
  int current_device() const;
  void set_current_device(int device);
  Session* current_session() const { return session(current_device()); }

  // Finds the session whose device memory contains [ptr, ptr + size),
  // trying the current device first; nullptr if none.
  Session* SessionOwning(const void* ptr, size_t size) const;

  // Host memory from cudaMallocHost/cudaHostAlloc, and memory the program
  // registered with cudaHostRegister: "pinned" memory, for which
  // asynchronous copies are truly asynchronous.
  void* AllocateHost(size_t size, unsigned flags);
  bool FreeHost(void* ptr);
  bool RegisterHost(void* ptr, size_t size, unsigned flags);
  bool UnregisterHost(void* ptr);
  // Whether [ptr, ptr + size) is pinned; *base and *flags describe its range.
  bool IsPinned(const void* ptr, size_t size, const void** base = nullptr, unsigned* flags = nullptr) const;

 private:
  Runtime();

  // pthread_atfork handlers. A forked child must not use the parent's
  // connections (the same message ids on the same stream would end the
  // parent's sessions): each of its sessions starts afresh on its first
  // call (Session::ResetInForkedChild). The locks are held across fork()
  // so that none is left locked in the child by a thread it does not have.
  static void PrepareFork();
  static void ParentAfterFork();
  static void ChildAfterFork();

  Status config_status_;
  std::vector<std::unique_ptr<Session>> sessions_;
  mutable std::mutex host_mu_;
  struct HostRange {
    size_t size;
    unsigned flags;
    bool registered;  // cudaHostRegister (not ours to free)
  };
  std::map<const char*, HostRange> host_ranges_;
};

}  // namespace rcuda::client
