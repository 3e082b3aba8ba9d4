// The Executor that drives a real GPU through the CUDA driver API.
#pragma once

#include <memory>

#include "server/executor.h"

namespace rcuda {

std::unique_ptr<Executor> NewCudaExecutor(const ExecutorOptions& options);

}  // namespace rcuda
