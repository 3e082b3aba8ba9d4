// Every cudaMemcpy* and cudaMemset* of the runtime comes down to one strided
// copy (or set) on some stream; this is where rcuda decides how each one
// travels: which device(s) it touches, whether it is captured into a graph,
// whether the program waits for it, and whether it crosses servers.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>

namespace rcuda::client {

struct CopySpec {
  void* dst = nullptr;
  size_t dst_pitch = 0, dst_slice = 0;  // pitch in bytes, rows per slice
  const void* src = nullptr;
  size_t src_pitch = 0, src_slice = 0;
  size_t width = 0, height = 1, depth = 1;  // width in bytes
  cudaMemcpyKind kind = cudaMemcpyDefault;
  cudaStream_t stream = nullptr;
  bool per_thread = false;  // called through a _ptsz/_ptds export
  // The program does not wait for the copy (the *Async calls). Copies into
  // pageable host memory complete before returning even then, as in CUDA.
  bool async = false;
};

// A 1D copy as a CopySpec.
CopySpec Linear(void* dst, const void* src, size_t count, cudaMemcpyKind kind, cudaStream_t stream, bool per_thread,
                bool async);

cudaError_t CopyMemory(const CopySpec& spec);

struct SetSpec {
  void* dst = nullptr;
  size_t pitch = 0, slice = 0;
  int value = 0;
  size_t width = 0, height = 1, depth = 1;
  cudaStream_t stream = nullptr;
  bool per_thread = false;
};

cudaError_t SetMemory(const SetSpec& spec);

}  // namespace rcuda::client
