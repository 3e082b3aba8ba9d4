// Status's own codes and their one mapping to cudaError_t at the API boundary.
#include "common/status.h"

#include <catch2/catch.hpp>

namespace rcuda {
namespace {

using Code = Status::Code;

TEST_CASE("Status keeps its kind apart from the CUDA error it reports", "[status]") {
  Status io = Status::IoError("read failed");
  CHECK_FALSE(io.ok());
  CHECK(io.code() == Code::kIoError);
  CHECK(io.cuda_error() == 0);  // not a CUDA error
  CHECK(io.ToCudaError() == kCudaErrorDevicesUnavailable);
  CHECK(Status::Unavailable("x").code() == Code::kUnavailable);
  CHECK(Status::Corruption("x").code() == Code::kCorruption);
  CHECK(Status::InvalidValue("x").code() == Code::kInvalidArgument);
}

TEST_CASE("Status maps each code to the cudaError_t the API returned before", "[status]") {
  CHECK(Status().ToCudaError() == kCudaSuccess);
  CHECK(Status::Ok().ToCudaError() == kCudaSuccess);
  CHECK(Status::InvalidValue("x").ToCudaError() == kCudaErrorInvalidValue);
  CHECK(Status::Corruption("x").ToCudaError() == kCudaErrorInvalidValue);
  CHECK(Status::NotFound("x").ToCudaError() == kCudaErrorInvalidValue);
  CHECK(Status::IoError("x").ToCudaError() == kCudaErrorDevicesUnavailable);
  CHECK(Status::Unavailable("x").ToCudaError() == kCudaErrorDevicesUnavailable);
  CHECK(Status::Timeout("x").ToCudaError() == kCudaErrorDevicesUnavailable);
  CHECK(Status::OutOfMemory("x").ToCudaError() == kCudaErrorMemoryAllocation);
  CHECK(Status::NotSupported("x").ToCudaError() == kCudaErrorNotSupported);
  CHECK(Status(Code::kAlreadyExists, "x").ToCudaError() == kCudaErrorInvalidValue);
  CHECK(Status(Code::kFailedPrecondition, "x").ToCudaError() == kCudaErrorInvalidValue);
}

TEST_CASE("A CUDA error carries its value through Status", "[status]") {
  Status s = Status::Cuda(kCudaErrorInvalidResourceHandle, "unknown stream");
  CHECK_FALSE(s.ok());
  CHECK(s.code() == Code::kCuda);
  CHECK(s.cuda_error() == kCudaErrorInvalidResourceHandle);
  CHECK(s.ToCudaError() == kCudaErrorInvalidResourceHandle);
  CHECK(Status::Cuda(kCudaErrorNotReady, "").ToCudaError() == kCudaErrorNotReady);
  // The wire's 0 is success, never a failure with no value.
  CHECK(Status::Cuda(kCudaSuccess, "ignored").ok());
  // A CUDA-kind Status built without a value still fails at the boundary.
  CHECK(Status(Code::kCuda, "no value").ToCudaError() == kCudaErrorUnknown);
}

TEST_CASE("WithMessage keeps the code and the CUDA value", "[status]") {
  Status cuda = Status::Cuda(kCudaErrorNoKernelImageForDevice, "no image").WithMessage("module: no image");
  CHECK(cuda.code() == Code::kCuda);
  CHECK(cuda.ToCudaError() == kCudaErrorNoKernelImageForDevice);
  CHECK(cuda.message() == "module: no image");
  Status io = Status::IoError("eof").WithMessage("host channel: eof");
  CHECK(io.code() == Code::kIoError);
  CHECK(io.message() == "host channel: eof");
}

TEST_CASE("Status::ToString names the reported error and the kind", "[status]") {
  CHECK(Status().ToString() == "OK");
  CHECK(Status::IoError("eof").ToString() == "error 46 (I/O error): eof");
  CHECK(Status::Cuda(kCudaErrorNotReady, "busy").ToString() == "error 600: busy");
}

}  // namespace
}  // namespace rcuda
