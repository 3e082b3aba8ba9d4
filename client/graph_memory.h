// Graph memory: the allocations of memory allocation nodes
// (cudaGraphAddMemAllocNode, cudaMallocAsync in a stream capture).
//
// CUDA fixes an allocation node's address when the node is made, and backs
// it with memory only while the allocation is live in a launch. rcuda
// allocates the memory when the node is made (an ordinary allocation of the
// session, checked and capped as any other) and keeps it until nothing can
// use the address: the node is gone, no instantiated graph holds it, and no
// launch left it live (an allocation a graph does not free stays live after
// the launch until the program frees it). The server's graph sees empty
// nodes in place of the allocation and free nodes. The cost: memory that
// CUDA would share between allocations live at different times, or return
// between launches, stays held (docs/design.md, "Graph memory").
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <map>
#include <vector>

#include "client/session.h"
#include "common/mutex.h"
#include "common/thread_annotations.h"

namespace rcuda::client {

class GraphMemory {
 public:
  static GraphMemory& Get();

  // Allocates `bytes` on `session` for a new allocation node, which holds
  // the first reference.
  cudaError_t Allocate(Session* session, size_t bytes, uint64_t* dptr) EXCLUDES(mu_);
  bool IsAllocation(uint64_t dptr) EXCLUDES(mu_);
  // An instantiated graph takes or drops a reference; an allocation node
  // drops its reference when it is destroyed.
  void Retain(uint64_t dptr) EXCLUDES(mu_);
  void Release(uint64_t dptr) EXCLUDES(mu_);
  // A launch: the graph's allocations that it does not free stay live
  // after it; its free nodes end the allocations they name.
  void Launched(const std::vector<uint64_t>& escaping, const std::vector<uint64_t>& freed) EXCLUDES(mu_);
  // cudaFree / cudaFreeAsync of `dptr`. False: not graph memory. True: it
  // is, and *error says whether the program could free it (only a live
  // allocation can be).
  bool ProgramFree(uint64_t dptr, cudaError_t* error) EXCLUDES(mu_);

  // cudaDeviceGetGraphMemAttribute / cudaDeviceSetGraphMemAttribute. Used
  // and reserved are the same here: the bytes rcuda holds for allocation
  // nodes on the device.
  cudaError_t GetAttribute(int device, cudaGraphMemAttributeType attr, uint64_t* value) EXCLUDES(mu_);
  cudaError_t ResetHigh(int device, cudaGraphMemAttributeType attr) EXCLUDES(mu_);

 private:
  struct Allocation {
    Session* session;
    uint64_t bytes;
    int refs = 1;       // the node and the instantiated graphs that hold it
    bool live = false;  // left allocated by a launch, until freed
  };
  // Frees the memory of an allocation nothing can use any more.
  void FreeIfUnused(uint64_t dptr) EXCLUDES(mu_);
  uint64_t HeldLocked(int device) REQUIRES(mu_);

  Mutex mu_;
  std::map<uint64_t, Allocation> allocations_ GUARDED_BY(mu_);
  std::map<int, uint64_t> high_ GUARDED_BY(mu_);  // the most held at once, per device
};

}  // namespace rcuda::client
