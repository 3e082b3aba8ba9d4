// TEST EQUIPMENT: device printf of the fake CUDA driver. A host kernel's
// printf (rcuda::testk::DevicePrintf, host_kernel_api.h) appends to its
// context's buffer, which stands for the GPU's printf FIFO
// (CU_LIMIT_PRINTF_FIFO_SIZE bytes; what does not fit is lost, as on a GPU).
// The buffer reaches fd 1 only at the driver's synchronization points, as
// CUDA documents them: cuCtxSynchronize, cuStreamSynchronize,
// cuEventSynchronize (and the blocking copies that use them), the start of
// a launch, module load and unload, and the context's end. Not at a query:
// a caller that answers a synchronization with cuStreamQuery alone never
// sees the output, as with the real driver.
#pragma once

#include <cstddef>
#include <string>

#include "tests/fake_driver/driver_state.h"

namespace fake {

// The host kernel's side (rcuda_test_launch::device_printf): appends what fits
// in `ctx`'s FIFO. Takes the lock.
void DevicePrintf(const void* ctx, const char* text, size_t bytes);

// What `ctx` printed so far, which the caller writes with WriteDevicePrintf
// once it released the lock. Lock held.
std::string TakeDevicePrintf(Context* ctx);

// Writes `text` to fd 1 whole (without the lock: a full pipe must not stop
// the driver).
void WriteDevicePrintf(const std::string& text);

// A synchronization point of a call that holds `lock` on `ctx` and returns
// `result`: takes the context's output, releases the lock and writes it.
CUresult FlushedAt(std::unique_lock<std::mutex>& lock, Context* ctx, CUresult result);

}  // namespace fake
