// Every kernel launch of the runtime API (<<<>>>, cudaLaunchKernel,
// cudaLaunchKernelExC, cudaLaunchCooperativeKernel) ends here: on a
// capturing stream it becomes a graph node, otherwise a Launch message.
#pragma once

#include <cuda_runtime_api.h>

#include "client/registry.h"
#include "client/session.h"

namespace rcuda::client {

// Returns through Fail (records the thread's last error).
cudaError_t LaunchOnStream(const Function* function, dim3 grid, dim3 block, void** args, size_t shared_bytes,
                           cudaStream_t stream, const LaunchOptions& extras, bool per_thread);

}  // namespace rcuda::client
