#include "common/status.h"

namespace rcuda {

int Status::ToCudaError(Code code, int cuda_error) {
  switch (code) {
    case Code::kOk:
      return kCudaSuccess;
    case Code::kInvalidArgument:
    case Code::kCorruption:
    case Code::kNotFound:
    case Code::kAlreadyExists:
    case Code::kFailedPrecondition:
      return kCudaErrorInvalidValue;
    // The server or the connection to it failed: to the program, its
    // (remote) devices are unavailable.
    case Code::kIoError:
    case Code::kUnavailable:
    case Code::kTimeout:
      return kCudaErrorDevicesUnavailable;
    case Code::kOutOfMemory:
      return kCudaErrorMemoryAllocation;
    case Code::kNotSupported:
      return kCudaErrorNotSupported;
    case Code::kCuda:
      return cuda_error != kCudaSuccess ? cuda_error : kCudaErrorUnknown;  // never OK by accident
  }
  return kCudaErrorUnknown;
}

const char* Status::CodeName(Code code) {
  switch (code) {
    case Code::kOk: return "OK";
    case Code::kInvalidArgument: return "invalid argument";
    case Code::kIoError: return "I/O error";
    case Code::kUnavailable: return "unavailable";
    case Code::kCorruption: return "corruption";
    case Code::kOutOfMemory: return "out of memory";
    case Code::kNotSupported: return "not supported";
    case Code::kNotFound: return "not found";
    case Code::kTimeout: return "timeout";
    case Code::kAlreadyExists: return "already exists";
    case Code::kFailedPrecondition: return "failed precondition";
    case Code::kCuda: return "CUDA error";
  }
  return "unknown";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  // "error <cudaError_t>: " as before the codes were Status's own (logs and
  // tests read it), then the kind when it is not a CUDA error.
  std::string kind = code_ == Code::kCuda ? "" : std::string(" (") + CodeName(code_) + ")";
  return "error " + std::to_string(ToCudaError()) + kind + ": " + message_;
}

}  // namespace rcuda
