// TEST EQUIPMENT: see test_executor.cc.
#pragma once

#include <memory>

#include "server/executor.h"

namespace rcuda {

std::unique_ptr<Executor> NewTestExecutor(const ExecutorOptions& options);

}  // namespace rcuda
