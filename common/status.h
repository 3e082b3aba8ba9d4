// Status: the outcome of an operation, LevelDB style. A Status is either OK or
// carries a code saying what kind of failure it is and a message for the log.
// A CUDA error from the driver or the runtime is one kind (kCuda) and carries
// its cudaError_t value. Only at the API boundary (the client's exported
// functions, and the error codes the server puts on the wire) does a Status
// become a cudaError_t: ToCudaError() is that mapping, the one place where,
// say, an I/O error becomes cudaErrorDevicesUnavailable.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "common/cuda_error_codes.h"

namespace rcuda {

class Status {
 public:
  enum class Code {
    kOk = 0,
    kInvalidArgument,     // the caller's mistake
    kIoError,             // a read, write or connection failed
    kUnavailable,         // the server, device or service cannot serve now
    kCorruption,          // data that does not parse or breaks its own rules
    kOutOfMemory,
    kNotSupported,
    kNotFound,
    kTimeout,
    kAlreadyExists,
    kFailedPrecondition,  // the system is not in a state that allows this
    kCuda,                // a CUDA error (cuda_error() is its cudaError_t value)
  };

  Status() = default;  // OK
  // A failure of the kind `code`. For CUDA errors use Cuda().
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  // A CUDA error with its cudaError_t value; 0 (cudaSuccess) is OK.
  static Status Cuda(int cuda_error, std::string msg) {
    if (cuda_error == kCudaSuccess) return Status();
    Status s(Code::kCuda, std::move(msg));
    s.cuda_error_ = cuda_error;
    return s;
  }
  static Status InvalidValue(std::string msg) { return Status(Code::kInvalidArgument, std::move(msg)); }
  static Status NotSupported(std::string msg) { return Status(Code::kNotSupported, std::move(msg)); }
  static Status Unavailable(std::string msg) { return Status(Code::kUnavailable, std::move(msg)); }
  static Status IoError(std::string msg) { return Status(Code::kIoError, std::move(msg)); }
  static Status Corruption(std::string msg) { return Status(Code::kCorruption, std::move(msg)); }
  static Status OutOfMemory(std::string msg) { return Status(Code::kOutOfMemory, std::move(msg)); }
  static Status NotFound(std::string msg) { return Status(Code::kNotFound, std::move(msg)); }
  static Status Timeout(std::string msg) { return Status(Code::kTimeout, std::move(msg)); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  // The cudaError_t value a CUDA error carries; 0 for any other Status.
  int cuda_error() const { return code_ == Code::kCuda ? cuda_error_ : kCudaSuccess; }
  const std::string& message() const { return message_; }
  // The same failure (code and CUDA value) with another message.
  Status WithMessage(std::string message) const {
    Status s = *this;
    s.message_ = std::move(message);
    return s;
  }
  // The cudaError_t the CUDA API reports for this Status (0 when OK).
  int ToCudaError() const { return ToCudaError(code_, cuda_error_); }
  static int ToCudaError(Code code, int cuda_error);
  static const char* CodeName(Code code);
  std::string ToString() const;

 private:
  Code code_ = Code::kOk;
  int cuda_error_ = kCudaSuccess;  // with kCuda only
  std::string message_;
};

// Returns early from the enclosing function when `expr` is not OK.
#define RCUDA_RETURN_IF_ERROR(expr)            \
  do {                                         \
    ::rcuda::Status _rcuda_status = (expr);    \
    if (!_rcuda_status.ok()) return _rcuda_status; \
  } while (0)

}  // namespace rcuda
