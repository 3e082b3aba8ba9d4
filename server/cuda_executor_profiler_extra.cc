// The CUDA backend's profiler calls (Executor::ProfilerStart/Stop, see
// executor.h): on the session's context, current on the session's thread.
#include "server/cuda_driver.h"
#include "server/executor.h"

namespace rcuda {

Status Executor::ProfilerStart() {
  if (!cuda_extras_) return Status(Status::kNotSupported, "cudaProfilerStart: not with this backend");
  CUresult r = cuda_extras_->cuProfilerStart();
  return r == CUDA_SUCCESS ? Status::Ok() : cuda_extras_->Error(r, "cuProfilerStart");
}

Status Executor::ProfilerStop() {
  if (!cuda_extras_) return Status(Status::kNotSupported, "cudaProfilerStop: not with this backend");
  CUresult r = cuda_extras_->cuProfilerStop();
  return r == CUDA_SUCCESS ? Status::Ok() : cuda_extras_->Error(r, "cuProfilerStop");
}

}  // namespace rcuda
