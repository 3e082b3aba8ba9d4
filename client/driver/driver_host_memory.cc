// The driver API's page-locked host memory, memory information, pitched
// allocations and 2D copies, and copies between any two pointers (unified
// addressing), forwarded through rcuda's libcudart (one memory map: the
// runtime knows which pointers are its device allocations).
#include <cuda.h>
#include <cuda_runtime_api.h>

#include <cstdint>

#include "client/driver/driver_state.h"
#include "client/driver/driver_unsupported.h"

using namespace rcuda::client::driver;

namespace {

void* Ptr(CUdeviceptr p) { return reinterpret_cast<void*>(static_cast<uintptr_t>(p)); }
cudaStream_t Stream(CUstream s) { return reinterpret_cast<cudaStream_t>(s); }

// One side of a CUDA_MEMCPY2D that is not an array: its first byte, and
// whether it is host memory.
CUresult Side(CUmemorytype type, const void* host, CUdeviceptr device, size_t x, size_t y, size_t pitch,
              const char** base, bool* on_host) {
  const char* p;
  switch (type) {
    case CU_MEMORYTYPE_HOST: p = static_cast<const char*>(host); *on_host = true; break;
    case CU_MEMORYTYPE_DEVICE: p = static_cast<const char*>(Ptr(device)); *on_host = false; break;
    case CU_MEMORYTYPE_UNIFIED: p = static_cast<const char*>(Ptr(device)); *on_host = false; break;
    default: return CUDA_ERROR_INVALID_VALUE;
  }
  size_t offset;
  if (__builtin_mul_overflow(y, pitch, &offset) || __builtin_add_overflow(offset, x, &offset)) {
    return CUDA_ERROR_INVALID_VALUE;
  }
  *base = p + offset;
  return CUDA_SUCCESS;
}

CUresult Memcpy2D(const CUDA_MEMCPY2D* c, cudaStream_t stream, bool async) {
  if (!c) return CUDA_ERROR_INVALID_VALUE;
  if (c->srcMemoryType == CU_MEMORYTYPE_ARRAY || c->dstMemoryType == CU_MEMORYTYPE_ARRAY) {
    return Memcpy2DWithArrays(*c, stream, async);
  }
  const char *src = nullptr, *dst = nullptr;
  bool src_host = false, dst_host = false;
  if (CUresult r = Side(c->srcMemoryType, c->srcHost, c->srcDevice, c->srcXInBytes, c->srcY, c->srcPitch, &src,
                        &src_host)) {
    return r;
  }
  if (CUresult r = Side(c->dstMemoryType, c->dstHost, c->dstDevice, c->dstXInBytes, c->dstY, c->dstPitch, &dst,
                        &dst_host)) {
    return r;
  }
  // Unified pointers: the runtime tells host from device (cudaMemcpyDefault).
  cudaMemcpyKind kind = c->srcMemoryType == CU_MEMORYTYPE_UNIFIED || c->dstMemoryType == CU_MEMORYTYPE_UNIFIED
                            ? cudaMemcpyDefault
                        : src_host ? (dst_host ? cudaMemcpyHostToHost : cudaMemcpyHostToDevice)
                                   : (dst_host ? cudaMemcpyDeviceToHost : cudaMemcpyDeviceToDevice);
  // A pitch of 0 with one row is what programs pass for a single row.
  size_t dpitch = c->Height <= 1 && c->dstPitch == 0 ? c->WidthInBytes : c->dstPitch;
  size_t spitch = c->Height <= 1 && c->srcPitch == 0 ? c->WidthInBytes : c->srcPitch;
  void* d = const_cast<char*>(dst);
  return FromRuntime(async ? cudaMemcpy2DAsync(d, dpitch, src, spitch, c->WidthInBytes, c->Height, kind, stream)
                           : cudaMemcpy2D(d, dpitch, src, spitch, c->WidthInBytes, c->Height, kind));
}

}  // namespace

extern "C" {

RCUDA_DRIVER_EXPORT CUresult cuMemGetInfo_v2(size_t* free_bytes, size_t* total_bytes) {
  RCUDA_DRIVER_REQUIRE_INIT();
  if (!free_bytes || !total_bytes) return CUDA_ERROR_INVALID_VALUE;
  return FromRuntime(cudaMemGetInfo(free_bytes, total_bytes));
}

RCUDA_DRIVER_EXPORT CUresult cuMemAllocHost_v2(void** p, size_t bytes) {
  RCUDA_DRIVER_REQUIRE_INIT();
  if (!p || bytes == 0) return CUDA_ERROR_INVALID_VALUE;
  if (cudaError_t e = cudaMallocHost(p, bytes)) return FromRuntime(e);
  Remember(ContextResource::kHostMemory, *p);
  return CUDA_SUCCESS;
}

// CU_MEMHOSTALLOC_PORTABLE, DEVICEMAP and WRITECOMBINED have the values of
// cudaHostAllocPortable, Mapped and WriteCombined.
RCUDA_DRIVER_EXPORT CUresult cuMemHostAlloc(void** p, size_t bytes, unsigned int flags) {
  RCUDA_DRIVER_REQUIRE_INIT();
  if (!p || bytes == 0) return CUDA_ERROR_INVALID_VALUE;
  if (cudaError_t e = cudaHostAlloc(p, bytes, flags)) return FromRuntime(e);
  Remember(ContextResource::kHostMemory, *p);
  return CUDA_SUCCESS;
}

RCUDA_DRIVER_EXPORT CUresult cuMemFreeHost(void* p) {
  RCUDA_DRIVER_REQUIRE_INIT();
  cudaError_t e = cudaFreeHost(p);
  if (e == cudaSuccess) Forget(ContextResource::kHostMemory, p);
  return FromRuntime(e);
}

RCUDA_DRIVER_EXPORT CUresult cuMemHostGetDevicePointer_v2(CUdeviceptr* dptr, void* p, unsigned int flags) {
  RCUDA_DRIVER_REQUIRE_INIT();
  if (!dptr) return CUDA_ERROR_INVALID_VALUE;
  void* device = nullptr;
  if (cudaError_t e = cudaHostGetDevicePointer(&device, p, flags)) return FromRuntime(e);
  *dptr = reinterpret_cast<uintptr_t>(device);
  return CUDA_SUCCESS;
}

RCUDA_DRIVER_EXPORT CUresult cuMemAllocPitch_v2(CUdeviceptr* dptr, size_t* pitch, size_t width, size_t height,
                                                unsigned int element_size) {
  RCUDA_DRIVER_REQUIRE_INIT();
  if (!dptr || !pitch || width == 0 || height == 0) return CUDA_ERROR_INVALID_VALUE;
  if (element_size != 4 && element_size != 8 && element_size != 16) return CUDA_ERROR_INVALID_VALUE;
  void* p = nullptr;
  if (cudaError_t e = cudaMallocPitch(&p, pitch, width, height)) return FromRuntime(e);
  Remember(ContextResource::kDeviceMemory, p);
  *dptr = reinterpret_cast<uintptr_t>(p);
  return CUDA_SUCCESS;
}

RCUDA_DRIVER_EXPORT CUresult cuMemcpy2D_v2(const CUDA_MEMCPY2D* copy) {
  RCUDA_DRIVER_REQUIRE_INIT();
  return Memcpy2D(copy, nullptr, false);
}
RCUDA_DRIVER_EXPORT CUresult cuMemcpy2DUnaligned_v2(const CUDA_MEMCPY2D* copy) {
  RCUDA_DRIVER_REQUIRE_INIT();
  return Memcpy2D(copy, nullptr, false);
}
RCUDA_DRIVER_EXPORT CUresult cuMemcpy2DAsync_v2(const CUDA_MEMCPY2D* copy, CUstream s) {
  RCUDA_DRIVER_REQUIRE_INIT();
  return Memcpy2D(copy, Stream(s), true);
}

RCUDA_DRIVER_EXPORT CUresult cuMemcpy(CUdeviceptr dst, CUdeviceptr src, size_t bytes) {
  RCUDA_DRIVER_REQUIRE_INIT();
  return FromRuntime(cudaMemcpy(Ptr(dst), Ptr(src), bytes, cudaMemcpyDefault));
}
RCUDA_DRIVER_EXPORT CUresult cuMemcpyAsync(CUdeviceptr dst, CUdeviceptr src, size_t bytes, CUstream s) {
  RCUDA_DRIVER_REQUIRE_INIT();
  return FromRuntime(cudaMemcpyAsync(Ptr(dst), Ptr(src), bytes, cudaMemcpyDefault, Stream(s)));
}

}  // extern "C"
