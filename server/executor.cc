#include "server/executor.h"

#include "server/cuda_driver.h"
#include "server/cuda_executor.h"

namespace rcuda {

Status CreateExecutor(const ExecutorOptions& options, std::unique_ptr<Executor>* executor) {
  if (options.backend != "cuda" && options.backend != "test") {
    return Status::InvalidValue("unknown backend '" + options.backend + "' (cuda or test)");
  }
  // The test backend is the CUDA executor on the fake driver, never on a
  // real one: what it reports is labelled test equipment.
  if (options.backend == "test" && options.driver_library == ExecutorOptions{}.driver_library) {
    return Status::InvalidValue("the test backend has no fake driver configured (ConfigureTestBackend)");
  }
  *executor = NewCudaExecutor(options);
  return Status::Ok();
}

Status CountDevices(const ExecutorOptions& options, int* count) {
  *count = 0;
  if (options.backend == "test") {
    *count = 1;  // TEST BACKEND: one device, 0 (RCUDA_FAKE_DRIVER_DEVICES=1)
    return Status::Ok();
  }
  if (options.backend != "cuda") return Status::InvalidValue("unknown backend '" + options.backend + "'");
  CudaDriver drv;
  RCUDA_RETURN_IF_ERROR(drv.Load(options.driver_library));
  CUresult r = drv.cuInit(0);
  if (r != CUDA_SUCCESS) return drv.Error(r, "cuInit");
  r = drv.cuDeviceGetCount(count);
  if (r != CUDA_SUCCESS) return drv.Error(r, "cuDeviceGetCount");
  return Status::Ok();
}

}  // namespace rcuda
