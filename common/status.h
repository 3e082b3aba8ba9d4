// Status: the outcome of an operation, LevelDB style. A Status is either OK or
// carries a CUDA runtime error code (cudaError_t numbering, which is what the
// client finally returns to the program) and a message for the log.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "common/cuda_error_codes.h"

namespace rcuda {

class Status {
 public:
  Status() = default;  // OK
  Status(int code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  // Convenience constructors for the codes used outside CUDA calls.
  static Status InvalidValue(std::string msg) { return Status(kInvalidValue, std::move(msg)); }
  static Status NotSupported(std::string msg) { return Status(kNotSupported, std::move(msg)); }
  static Status Unavailable(std::string msg) { return Status(kDevicesUnavailable, std::move(msg)); }
  static Status IoError(std::string msg) { return Status(kDevicesUnavailable, std::move(msg)); }
  static Status Corruption(std::string msg) { return Status(kInvalidValue, std::move(msg)); }
  static Status OutOfMemory(std::string msg) { return Status(kMemoryAllocation, std::move(msg)); }

  bool ok() const { return code_ == 0; }
  int code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

  // cudaError_t values used without including the CUDA headers.
  static constexpr int kInvalidValue = kCudaErrorInvalidValue;
  static constexpr int kMemoryAllocation = kCudaErrorMemoryAllocation;
  static constexpr int kDevicesUnavailable = kCudaErrorDevicesUnavailable;
  static constexpr int kNoDevice = kCudaErrorNoDevice;
  static constexpr int kNotSupported = kCudaErrorNotSupported;
  static constexpr int kUnknown = kCudaErrorUnknown;

 private:
  int code_ = 0;
  std::string message_;
};

// Returns early from the enclosing function when `expr` is not OK.
#define RCUDA_RETURN_IF_ERROR(expr)            \
  do {                                         \
    ::rcuda::Status _rcuda_status = (expr);    \
    if (!_rcuda_status.ok()) return _rcuda_status; \
  } while (0)

}  // namespace rcuda
