#include "server/executor.h"

#include "server/cuda_driver.h"
#include "server/cuda_executor.h"
#include "server/test_executor.h"

namespace rcuda {

Status CreateExecutor(const ExecutorOptions& options, std::unique_ptr<Executor>* executor) {
  if (options.backend == "cuda") {
    *executor = NewCudaExecutor(options);
    (*executor)->AttachCudaExtras();
  } else if (options.backend == "test") {
    *executor = NewTestExecutor(options);
  } else {
    return Status::InvalidValue("unknown backend '" + options.backend + "' (cuda or test)");
  }
  return Status::Ok();
}

void Executor::AttachCudaExtras() {
  // The process's libcuda.so.1, which CudaExecutor opens too; a driver that
  // cannot be loaded is Open's to report.
  auto driver = std::make_shared<CudaDriver>();
  if (driver->Load().ok()) cuda_extras_ = std::move(driver);
}

Status CountDevices(const ExecutorOptions& options, int* count) {
  *count = 0;
  if (options.backend == "test") {
    *count = 1;  // TEST BACKEND: one device, 0
    return Status::Ok();
  }
  if (options.backend != "cuda") return Status::InvalidValue("unknown backend '" + options.backend + "'");
  CudaDriver drv;
  RCUDA_RETURN_IF_ERROR(drv.Load());
  CUresult r = drv.cuInit(0);
  if (r != CUDA_SUCCESS) return drv.Error(r, "cuInit");
  r = drv.cuDeviceGetCount(count);
  if (r != CUDA_SUCCESS) return drv.Error(r, "cuDeviceGetCount");
  return Status::Ok();
}

}  // namespace rcuda
