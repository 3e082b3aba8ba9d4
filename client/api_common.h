// Shared helpers of the exported CUDA functions (client/api_*.cc).
#pragma once

#include <cuda_runtime_api.h>

#include "client/errors.h"
#include "client/export.h"
#include "client/exports_twins.h"
#include "client/runtime.h"

namespace rcuda::client {

// The calling thread's current device's session, or nullptr with *error set.
inline Session* CurrentSession(cudaError_t* error) {
  Runtime& rt = Runtime::Get();
  if (!rt.config_status().ok()) {
    *error = cudaErrorInvalidValue;
    return nullptr;
  }
  Session* s = rt.current_session();
  if (!s) *error = cudaErrorInvalidDevice;
  return s;
}

// cudaMemcpy3D[Async] with a CUDA array on either side (client/api_arrays.cc).
cudaError_t CopyArrayParms3D(const cudaMemcpy3DParms* p, cudaStream_t stream, bool per_thread, bool async);

}  // namespace rcuda::client

// Declares `session` for the current device, or returns its error.
#define RCUDA_CURRENT_SESSION(session)                                    \
  cudaError_t session##_error = cudaSuccess;                              \
  ::rcuda::client::Session* session = ::rcuda::client::CurrentSession(&session##_error); \
  if (!session) return ::rcuda::client::Fail(session##_error)
