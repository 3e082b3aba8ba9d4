// The code that carries Clang's thread-safety annotations
// (common/thread_annotations.h), in one translation unit, for the CTest
// lint.thread_safety: GCC, which builds rcuda, ignores the annotations, so
// Clang checks them here (-fsyntax-only -Wthread-safety -Werror).
#include "server/cuda_executor.cc"
#include "server/cuda_executor_attributes.cc"
#include "server/cuda_executor_graphs.cc"
#include "server/cuda_executor_memory.cc"
#include "server/cuda_executor_modules.cc"
#include "server/cuda_executor_pools.cc"
#include "server/cuda_executor_streams.cc"
#include "server/cuda_executor_waits.cc"
#include "server/device_output.cc"
#include "server/driver_callbacks.cc"
#include "server/pinned_pool.cc"
#include "server/wait_events.cc"
