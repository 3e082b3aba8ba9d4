// The events the wait pool waits on (cuda_executor_streams.cc, PrepareWait).
//
// Under the context's default scheduling the driver spins a CPU core in
// cuStreamSynchronize, cuCtxSynchronize and in cuEventSynchronize on an
// ordinary event, for as long as the GPU work lasts: one core per session
// waiting on a long kernel. An event created with CU_EVENT_BLOCKING_SYNC
// makes cuEventSynchronize sleep until the GPU signals it instead. So a wait
// handed to the pool records such an event where it must wait (on the
// session thread, at the point of the request in stream order) and the pool
// thread synchronizes on it.
//
// Events are reused: Take on the session thread (it creates one when none is
// free; the context is current there), Give from any thread. At most
// kKeptEvents stay cached; more are destroyed when given back, so that a
// burst of waits does not leave the session holding a pile of events.
#pragma once

#include <cuda.h>

#include <cstddef>
#include <vector>

#include "common/mutex.h"
#include "common/status.h"
#include "server/cuda_driver.h"

namespace rcuda {

class WaitEvents {
 public:
  static constexpr unsigned kFlags = CU_EVENT_BLOCKING_SYNC | CU_EVENT_DISABLE_TIMING;
  static constexpr size_t kKeptEvents = 8;

  // `drv` outlives every Take and Give (the executor's driver table, read-only
  // once loaded).
  explicit WaitEvents(const CudaDriver* drv) : drv_(drv) {}
  WaitEvents(const WaitEvents&) = delete;
  WaitEvents& operator=(const WaitEvents&) = delete;

  // A free event, or a new one (call where the session's context is current).
  Status Take(CUevent* event) EXCLUDES(mu_);
  // Back to the cache, or destroyed when the cache is full or closed (any
  // thread whose context is current).
  void Give(CUevent event) EXCLUDES(mu_);
  // Destroys the cached events; later Gives destroy theirs (the executor, as
  // it ends, before it releases the context).
  void Close() EXCLUDES(mu_);
  size_t cached() EXCLUDES(mu_);

 private:
  const CudaDriver* const drv_;
  Mutex mu_;
  std::vector<CUevent> free_ GUARDED_BY(mu_);
  bool closed_ GUARDED_BY(mu_) = false;
};

}  // namespace rcuda
