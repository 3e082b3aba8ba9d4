// The test backend (`rcuda-server --backend test`): the CUDA executor on the
// fake libcuda.so.1 of tests/fake_driver, TEST EQUIPMENT (host memory, host
// kernels, not a GPU). Nothing of the fake is compiled into the server: it is
// opened by path, and configured through its environment.
#pragma once

#include "common/status.h"
#include "server/executor.h"

namespace rcuda {

// The environment variable that carries the fake driver's path from the
// daemon to its workers (rcuda-server --test-driver reads it too).
inline constexpr char kTestDriverEnv[] = "RCUDA_TEST_DRIVER";

// For the test backend (else nothing): finds the fake driver (the
// --test-driver path, or build/lib/fake-driver/libcuda.so.1 of the build
// tree the binary runs from), makes it the executor's driver, and hands it
// its configuration in the environment it reads at cuInit: one device of
// --test-memory bytes, the --test-kernels plugins. Call before any thread
// starts (it sets environment variables); the workers inherit them.
Status ConfigureTestBackend(ExecutorOptions* options);

}  // namespace rcuda
