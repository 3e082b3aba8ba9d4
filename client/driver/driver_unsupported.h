// What a driver API export that rcuda does not forward does: log its name
// (once per process) and fail with CUDA_ERROR_NOT_SUPPORTED. Never a silent
// success.
#pragma once

#define RCUDA_DRIVER_EXPORT __attribute__((visibility("default")))

namespace rcuda::client::driver {

int Unsupported(const char* name);

}  // namespace rcuda::client::driver
