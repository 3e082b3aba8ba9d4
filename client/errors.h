// CUDA's error model, kept in the client: the per-thread last error, which
// errors are sticky (they poison the device until cudaDeviceReset), and the
// names and descriptions of every cudaError_t value.
#pragma once

#include <cuda_runtime_api.h>

#include "common/status.h"

namespace rcuda::client {

// Returns `error` after recording it as the calling thread's last error
// (cudaSuccess records nothing). Every export returns through this.
cudaError_t Fail(cudaError_t error);
inline cudaError_t Fail(int error) { return Fail(static_cast<cudaError_t>(error)); }
inline cudaError_t Return(const Status& status) { return Fail(status.ToCudaError()); }

// The thread's last error; `reset` clears it (cudaGetLastError).
cudaError_t LastError(bool reset);

// Errors after which the device's context is unusable: every later call on
// the device returns them, until cudaDeviceReset.
bool IsSticky(int error);

const char* ErrorName(int error);
const char* ErrorDescription(int error);

}  // namespace rcuda::client
