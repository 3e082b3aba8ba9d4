// The cudaError_t values rcuda names outside the CUDA headers (the server and
// the protocol do not include the runtime's headers). The one definition of
// each; client/errors.cc checks them against driver_types.h at compile time.
#pragma once

namespace rcuda {

inline constexpr int kCudaSuccess = 0;
inline constexpr int kCudaErrorInvalidValue = 1;             // cudaErrorInvalidValue
inline constexpr int kCudaErrorMemoryAllocation = 2;         // cudaErrorMemoryAllocation
inline constexpr int kCudaErrorInsufficientDriver = 35;      // cudaErrorInsufficientDriver
inline constexpr int kCudaErrorDevicesUnavailable = 46;      // cudaErrorDevicesUnavailable
inline constexpr int kCudaErrorNoDevice = 100;               // cudaErrorNoDevice
inline constexpr int kCudaErrorInvalidDevice = 101;          // cudaErrorInvalidDevice
inline constexpr int kCudaErrorNoKernelImageForDevice = 209;  // cudaErrorNoKernelImageForDevice
inline constexpr int kCudaErrorInvalidResourceHandle = 400;  // cudaErrorInvalidResourceHandle
inline constexpr int kCudaErrorNotReady = 600;               // cudaErrorNotReady
inline constexpr int kCudaErrorNotSupported = 801;           // cudaErrorNotSupported
inline constexpr int kCudaErrorUnknown = 999;                // cudaErrorUnknown

}  // namespace rcuda
