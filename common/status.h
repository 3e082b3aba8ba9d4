// Status: the outcome of an operation, LevelDB style. A Status is either OK or
// carries a CUDA runtime error code (cudaError_t numbering, which is what the
// client finally returns to the program) and a message for the log.
#pragma once

#include <string>
#include <string_view>
#include <utility>

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
  static constexpr int kInvalidValue = 1;         // cudaErrorInvalidValue
  static constexpr int kMemoryAllocation = 2;     // cudaErrorMemoryAllocation
  static constexpr int kDevicesUnavailable = 46;  // cudaErrorDevicesUnavailable
  static constexpr int kNoDevice = 100;           // cudaErrorNoDevice
  static constexpr int kNotSupported = 801;       // cudaErrorNotSupported
  static constexpr int kUnknown = 999;            // cudaErrorUnknown

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
