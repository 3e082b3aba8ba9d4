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
  // asynchronous copies are truly asynchronous. When the current device's
  // session runs over shared memory, cudaMallocHost memory is a host
  // segment its worker maps and registers with the driver (copies then
  // name it and go by DMA); elsewhere anonymous memory. *error: why
  // nothing was allocated (cudaErrorMemoryAllocation for a session's cap).
  void* AllocateHost(size_t size, unsigned flags, cudaError_t* error);
  // cudaErrorInvalidValue for memory that is not cudaMallocHost's.
  cudaError_t FreeHost(void* ptr);
  // Where [ptr, ptr + size) lies in a host segment of `session`: its id and
  // offset. False when the range is not all inside one, or the segment is
  // another session's (or of one that was reset since).
  bool FindSegment(const void* ptr, size_t size, Session* session, int64_t* segment, uint64_t* offset) const;
  // The device address of mapped pinned memory (cudaHostGetDevicePointer).
  cudaError_t DevicePointer(void* host, void** device);
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
  // In a forked child: host segments become private memory (see runtime.cc).
  void PrivatizeSegmentsInChild();

  Status config_status_;
  std::vector<std::unique_ptr<Session>> sessions_;
  mutable std::mutex host_mu_;
  struct HostRange {
    size_t size;
    unsigned flags;
    bool registered;  // cudaHostRegister (not ours to free)
    // A host segment: the session whose worker maps it (of generation
    // `generation`), its id there, the bytes mapped (whole pages).
    Session* session = nullptr;
    uint64_t generation = 0;
    int64_t segment = 0;
    size_t mapped = 0;
    uint64_t device_base = 0;  // its device address, once asked for (0: not yet)
  };
  // The segment of `range`, if it still has one.
  static bool LiveSegment(const HostRange& range);
  std::map<const char*, HostRange> host_ranges_;
};

}  // namespace rcuda::client
