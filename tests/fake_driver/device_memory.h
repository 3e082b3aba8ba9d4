// TEST EQUIPMENT: fake device memory (host pages) and the copies and fills
// the fake CUDA driver performs on it.
//
// Copies of every shape (1-D, 2-D, 3-D, either side host or device) are one
// strided copy. They are checked when queued (a device side outside memory
// the program allocated is CUDA_ERROR_INVALID_VALUE) and again when they
// run (memory freed in between is a fault, as on a GPU), so a wrong pointer
// never reaches memcpy.
#pragma once

#include <cuda.h>

#include <cstdint>

#include "tests/fake_driver/driver_state.h"

namespace fake {

// Maps `size` bytes on `dev`, counted against its memory. Lock held.
CUresult MapDeviceMemory(Device* dev, uint64_t size, uint64_t* ptr);
void UnmapDeviceMemory(Device* dev, uint64_t ptr, uint64_t size);

// Frees a cuMemAlloc'd or pool allocation now (pool blocks go back to their
// pool). Lock held.
void ReleaseAllocation(const Allocation& a);

// The array behind a CUarray while its memory lives, else nullptr. Lock held.
const Array* LiveArray(CUarray handle);

struct CopySide {
  bool device = false;  // else host memory
  uint8_t* start = nullptr;  // first byte copied
  uint64_t pitch = 0;        // bytes between rows
  uint64_t slice = 0;        // bytes between slices
};

struct StridedCopy {
  CopySide src, dst;
  uint64_t width = 0, height = 1, depth = 1;  // width in bytes
  bool empty() const { return width == 0 || height == 0 || depth == 0; }
};

// Resolves and checks a CUDA_MEMCPY3D (a CU_MEMORYTYPE_ARRAY side: the
// array's memory, the rectangle inside the array). Lock held.
CUresult ResolveCopy(const CUDA_MEMCPY3D& m, StridedCopy* copy);

// A plain copy of `bytes`; each side is device memory if `*_device`.
CUresult ResolveLinearCopy(uint64_t dst, bool dst_device, uint64_t src, bool src_device, uint64_t bytes,
                           StridedCopy* copy);

// True if a host side lies outside memory from cuMemHostAlloc: the driver
// then completes the copy before returning, as CUDA does for pageable memory.
// Lock held.
bool TouchesPageableHost(const StridedCopy& copy);

// Runs the copy (without the lock); a device side no longer allocated is
// CUDA_ERROR_ILLEGAL_ADDRESS.
CUresult ExecuteCopy(const StridedCopy& copy);

struct Fill {
  uint8_t* start = nullptr;
  uint64_t pitch = 0;
  uint32_t value = 0;
  unsigned element_size = 1;  // 1, 2 or 4
  uint64_t width = 0;         // elements per row
  uint64_t height = 1;
  bool empty() const { return width == 0 || height == 0; }
};

// cuMemsetD2D*: checks alignment, pitch and range. Lock held.
CUresult ResolveFill(CUdeviceptr dst, uint64_t pitch, uint32_t value, unsigned element_size, uint64_t width,
                     uint64_t height, Fill* fill);
CUresult ExecuteFill(const Fill& fill);

}  // namespace fake
