// What the CUDA executor hands the driver to run on the driver's own
// threads, behind a stream's earlier work: host functions of the client, and
// deliveries of device-to-host copies to the client. They reach only the
// session's host channel and the pinned pool, which are both safe to call
// from any thread, and never the executor's session state.
#pragma once

#include <cuda.h>

#include <cstddef>
#include <cstdint>

#include "server/executor.h"
#include "server/pinned_pool.h"

namespace rcuda {

// Runs the client's host function `id` (cuLaunchHostFunc, graph host nodes).
struct HostFunctionCall {
  HostChannel* channel;
  uint64_t id;
  bool once;  // launched with cuLaunchHostFunc: deletes itself after running
  static void CUDA_CB Run(void* data);
};

// Hands an asynchronous copy's pinned buffer to the client's pending copy
// `pending`, then gives the buffer back to `pool` and deletes itself.
struct CopyDelivery {
  HostChannel* channel;
  PinnedPool* pool;
  void* buffer;
  size_t size;
  uint64_t pending;
  static void CUDA_CB Run(void* data);
};

// A graph's delivery node: hands the graph's staging to the client on each
// launch; owned by the graph.
struct GraphDelivery {
  HostChannel* channel;
  void* buffer;
  size_t size;
  uint64_t pending;
  static void CUDA_CB Run(void* data);
};

}  // namespace rcuda
