#include "client/errors.h"

#include "common/cuda_error_codes.h"

// common/cuda_error_codes.h names these values without CUDA's headers.
static_assert(rcuda::kCudaSuccess == cudaSuccess);
static_assert(rcuda::kCudaErrorInvalidValue == cudaErrorInvalidValue);
static_assert(rcuda::kCudaErrorMemoryAllocation == cudaErrorMemoryAllocation);
static_assert(rcuda::kCudaErrorInsufficientDriver == cudaErrorInsufficientDriver);
static_assert(rcuda::kCudaErrorDevicesUnavailable == cudaErrorDevicesUnavailable);
static_assert(rcuda::kCudaErrorNoDevice == cudaErrorNoDevice);
static_assert(rcuda::kCudaErrorInvalidDevice == cudaErrorInvalidDevice);
static_assert(rcuda::kCudaErrorNoKernelImageForDevice == cudaErrorNoKernelImageForDevice);
static_assert(rcuda::kCudaErrorInvalidResourceHandle == cudaErrorInvalidResourceHandle);
static_assert(rcuda::kCudaErrorNotReady == cudaErrorNotReady);
static_assert(rcuda::kCudaErrorNotSupported == cudaErrorNotSupported);
static_assert(rcuda::kCudaErrorUnknown == cudaErrorUnknown);

namespace rcuda::client {
namespace {

struct ErrorInfo {
  int value;
  const char* name;
  const char* description;
};

const ErrorInfo kErrors[] = {
#include "client/error_table.inc"
};

thread_local cudaError_t last_error = cudaSuccess;

const ErrorInfo* Find(int error) {
  for (const auto& e : kErrors)
    if (e.value == error) return &e;
  return nullptr;
}

}  // namespace

cudaError_t Fail(cudaError_t error) {
  if (error != cudaSuccess) last_error = error;
  return error;
}

cudaError_t LastError(bool reset) {
  cudaError_t e = last_error;
  if (reset) last_error = cudaSuccess;
  return e;
}

bool IsSticky(int error) {
  switch (error) {
    case cudaErrorIllegalAddress:
    case cudaErrorLaunchFailure:
    case cudaErrorHardwareStackError:
    case cudaErrorIllegalInstruction:
    case cudaErrorMisalignedAddress:
    case cudaErrorInvalidAddressSpace:
    case cudaErrorInvalidPc:
    case cudaErrorLaunchTimeout:
    case cudaErrorAssert:
    case cudaErrorECCUncorrectable:
    case cudaErrorDevicesUnavailable:  // rcuda: the server is gone
      return true;
    default:
      return false;
  }
}

const char* ErrorName(int error) {
  const ErrorInfo* e = Find(error);
  return e ? e->name : "unrecognized error code";
}

const char* ErrorDescription(int error) {
  const ErrorInfo* e = Find(error);
  return e ? e->description : "unrecognized error code";
}

}  // namespace rcuda::client
