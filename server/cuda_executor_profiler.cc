// CudaExecutor: the profiler calls (cudaProfilerStart/Stop), on the
// session's context, current on the session's thread.
#include "server/cuda_executor.h"

namespace rcuda {

Status CudaExecutor::ProfilerStart() { return Check(drv_.cuProfilerStart(), "cuProfilerStart"); }

Status CudaExecutor::ProfilerStop() { return Check(drv_.cuProfilerStop(), "cuProfilerStop"); }

}  // namespace rcuda
