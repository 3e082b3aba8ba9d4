#include "server/executor.h"

#include "server/cuda_executor.h"
#include "server/test_executor.h"

namespace rcuda {

Status CreateExecutor(const ExecutorOptions& options, std::unique_ptr<Executor>* executor) {
  if (options.backend == "cuda") {
    *executor = NewCudaExecutor(options);
  } else if (options.backend == "test") {
    *executor = NewTestExecutor(options);
  } else {
    return Status::InvalidValue("unknown backend '" + options.backend + "' (cuda or test)");
  }
  return Status::Ok();
}

}  // namespace rcuda
