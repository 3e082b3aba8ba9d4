// Errors, answered locally with CUDA's rules: cudaGetLastError returns and
// clears the thread's last error, except that a sticky error of the current
// device keeps being returned.
#include "client/api_common.h"

using namespace rcuda::client;

extern "C" {

RCUDA_EXPORT cudaError_t cudaGetLastError() {
  cudaError_t e = LastError(/*reset=*/true);
  if (IsSticky(e)) Fail(e);  // sticky errors persist until cudaDeviceReset
  return e;
}

RCUDA_EXPORT cudaError_t cudaPeekAtLastError() { return LastError(/*reset=*/false); }

RCUDA_EXPORT const char* cudaGetErrorName(cudaError_t error) { return ErrorName(error); }

RCUDA_EXPORT const char* cudaGetErrorString(cudaError_t error) { return ErrorDescription(error); }

}  // extern "C"
