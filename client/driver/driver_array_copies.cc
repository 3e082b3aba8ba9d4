// The driver API's copies to and from CUDA arrays, forwarded as the
// runtime's array copies (a CUarray is the runtime's cudaArray_t): the 2-D
// copies of cuMemcpy2D with an array on either side, cuMemcpy3D (whose byte
// offsets and widths become the runtime's elements where an array takes
// part) and the 1-D copies (cuMemcpyHtoA, AtoH, DtoA, AtoD, AtoA).
#include <cuda.h>
#include <cuda_runtime_api.h>

#include "client/driver/driver_state.h"
#include "client/driver/driver_unsupported.h"

using namespace rcuda::client::driver;

namespace {

cudaArray_t Array(CUarray a) { return reinterpret_cast<cudaArray_t>(a); }
void* Ptr(CUdeviceptr p) { return reinterpret_cast<void*>(static_cast<uintptr_t>(p)); }
cudaStream_t Stream(CUstream s) { return reinterpret_cast<cudaStream_t>(s); }

// Bytes of one element of `array`; 0 for one the runtime does not know.
size_t ElementBytes(CUarray array) {
  cudaChannelFormatDesc d{};
  if (cudaArrayGetInfo(&d, nullptr, nullptr, Array(array)) != cudaSuccess) return 0;
  return static_cast<size_t>(d.x + d.y + d.z + d.w) / 8;
}

// One side of a CUDA_MEMCPY3D as the runtime's: an array with its position
// in elements, or memory (host, device or unified) with its position in
// bytes.
bool Side3D(CUmemorytype type, const void* host, CUdeviceptr device, CUarray array, size_t pitch, size_t height,
            size_t x, size_t y, size_t z, size_t element, cudaArray_t* out_array, cudaPitchedPtr* out_ptr,
            cudaPos* pos) {
  switch (type) {
    case CU_MEMORYTYPE_ARRAY:
      if (element == 0 || x % element != 0) return false;
      *out_array = Array(array);
      *pos = cudaPos{x / element, y, z};
      return true;
    case CU_MEMORYTYPE_HOST:
    case CU_MEMORYTYPE_DEVICE:
    case CU_MEMORYTYPE_UNIFIED:
      *out_ptr = cudaPitchedPtr{type == CU_MEMORYTYPE_HOST ? const_cast<void*>(host) : Ptr(device), pitch, pitch, height};
      *pos = cudaPos{x, y, z};
      return true;
    default:
      return false;
  }
}

CUresult Memcpy3D(const CUDA_MEMCPY3D* c, cudaStream_t stream, bool async) {
  if (!c) return CUDA_ERROR_INVALID_VALUE;
  if (c->srcLOD != 0 || c->dstLOD != 0) return static_cast<CUresult>(Unsupported("cuMemcpy3D (a level of detail)"));
  // Where an array takes part the runtime counts x and the width in its
  // elements (the destination's when both are arrays), else in bytes.
  size_t element = 1;
  if (c->dstMemoryType == CU_MEMORYTYPE_ARRAY) {
    element = ElementBytes(c->dstArray);
  } else if (c->srcMemoryType == CU_MEMORYTYPE_ARRAY) {
    element = ElementBytes(c->srcArray);
  }
  if (element == 0 || c->WidthInBytes % element != 0) return CUDA_ERROR_INVALID_VALUE;
  cudaMemcpy3DParms p{};
  const size_t src_height = c->srcHeight ? c->srcHeight : c->Height;
  const size_t dst_height = c->dstHeight ? c->dstHeight : c->Height;
  const size_t src_pitch = c->srcPitch ? c->srcPitch : c->WidthInBytes;
  const size_t dst_pitch = c->dstPitch ? c->dstPitch : c->WidthInBytes;
  if (!Side3D(c->srcMemoryType, c->srcHost, c->srcDevice, c->srcArray, src_pitch, src_height, c->srcXInBytes, c->srcY,
              c->srcZ, element, &p.srcArray, &p.srcPtr, &p.srcPos) ||
      !Side3D(c->dstMemoryType, c->dstHost, c->dstDevice, c->dstArray, dst_pitch, dst_height, c->dstXInBytes, c->dstY,
              c->dstZ, element, &p.dstArray, &p.dstPtr, &p.dstPos)) {
    return CUDA_ERROR_INVALID_VALUE;
  }
  const bool arrays = c->srcMemoryType == CU_MEMORYTYPE_ARRAY || c->dstMemoryType == CU_MEMORYTYPE_ARRAY;
  p.extent = cudaExtent{arrays ? c->WidthInBytes / element : c->WidthInBytes, c->Height, c->Depth};
  p.kind = cudaMemcpyDefault;  // the runtime tells host from device memory
  return FromRuntime(async ? cudaMemcpy3DAsync(&p, stream) : cudaMemcpy3D(&p));
}

// A 1-D copy of `bytes` between an array's byte `offset` (along its rows)
// and memory.
CUresult Linear(CUarray array, size_t offset, void* memory, size_t bytes, bool to_array, cudaStream_t stream,
                bool async) {
  CUDA_MEMCPY2D c{};
  c.WidthInBytes = bytes;
  c.Height = 1;
  (to_array ? c.dstMemoryType : c.srcMemoryType) = CU_MEMORYTYPE_ARRAY;
  (to_array ? c.dstArray : c.srcArray) = array;
  (to_array ? c.dstXInBytes : c.srcXInBytes) = offset;
  (to_array ? c.srcMemoryType : c.dstMemoryType) = CU_MEMORYTYPE_UNIFIED;
  (to_array ? c.srcDevice : c.dstDevice) = reinterpret_cast<uintptr_t>(memory);
  return Memcpy2DWithArrays(c, stream, async);
}

}  // namespace

namespace rcuda::client::driver {

CUresult Memcpy2DWithArrays(const CUDA_MEMCPY2D& c, cudaStream_t stream, bool async) {
  const bool from_array = c.srcMemoryType == CU_MEMORYTYPE_ARRAY, to_array = c.dstMemoryType == CU_MEMORYTYPE_ARRAY;
  auto memory = [](CUmemorytype type, const void* host, CUdeviceptr device, size_t x, size_t y, size_t pitch,
                   const char** out) {
    const char* p = type == CU_MEMORYTYPE_HOST ? static_cast<const char*>(host)
                                               : reinterpret_cast<const char*>(static_cast<uintptr_t>(device));
    size_t offset;
    if (__builtin_mul_overflow(y, pitch, &offset) || __builtin_add_overflow(offset, x, &offset)) return false;
    *out = p + offset;
    return true;
  };
  // The runtime tells host from device memory (cudaMemcpyDefault).
  const char* side = nullptr;
  if (from_array && to_array) {
    return FromRuntime(cudaMemcpy2DArrayToArray(Array(c.dstArray), c.dstXInBytes, c.dstY, Array(c.srcArray),
                                                c.srcXInBytes, c.srcY, c.WidthInBytes, c.Height,
                                                cudaMemcpyDeviceToDevice));
  }
  if (to_array) {
    if (!memory(c.srcMemoryType, c.srcHost, c.srcDevice, c.srcXInBytes, c.srcY, c.srcPitch, &side)) {
      return CUDA_ERROR_INVALID_VALUE;
    }
    const size_t pitch = c.Height <= 1 && c.srcPitch == 0 ? c.WidthInBytes : c.srcPitch;
    return FromRuntime(async ? cudaMemcpy2DToArrayAsync(Array(c.dstArray), c.dstXInBytes, c.dstY, side, pitch,
                                                        c.WidthInBytes, c.Height, cudaMemcpyDefault, stream)
                             : cudaMemcpy2DToArray(Array(c.dstArray), c.dstXInBytes, c.dstY, side, pitch,
                                                   c.WidthInBytes, c.Height, cudaMemcpyDefault));
  }
  if (!memory(c.dstMemoryType, c.dstHost, c.dstDevice, c.dstXInBytes, c.dstY, c.dstPitch, &side)) {
    return CUDA_ERROR_INVALID_VALUE;
  }
  const size_t pitch = c.Height <= 1 && c.dstPitch == 0 ? c.WidthInBytes : c.dstPitch;
  void* dst = const_cast<char*>(side);
  return FromRuntime(async ? cudaMemcpy2DFromArrayAsync(dst, pitch, Array(c.srcArray), c.srcXInBytes, c.srcY,
                                                        c.WidthInBytes, c.Height, cudaMemcpyDefault, stream)
                           : cudaMemcpy2DFromArray(dst, pitch, Array(c.srcArray), c.srcXInBytes, c.srcY,
                                                   c.WidthInBytes, c.Height, cudaMemcpyDefault));
}

}  // namespace rcuda::client::driver

extern "C" {

RCUDA_DRIVER_EXPORT CUresult cuMemcpy3D_v2(const CUDA_MEMCPY3D* copy) {
  RCUDA_DRIVER_REQUIRE_INIT();
  return Memcpy3D(copy, nullptr, false);
}

RCUDA_DRIVER_EXPORT CUresult cuMemcpy3DAsync_v2(const CUDA_MEMCPY3D* copy, CUstream stream) {
  RCUDA_DRIVER_REQUIRE_INIT();
  return Memcpy3D(copy, Stream(stream), true);
}

RCUDA_DRIVER_EXPORT CUresult cuMemcpyHtoA_v2(CUarray dst, size_t offset, const void* src, size_t bytes) {
  RCUDA_DRIVER_REQUIRE_INIT();
  return Linear(dst, offset, const_cast<void*>(src), bytes, true, nullptr, false);
}

RCUDA_DRIVER_EXPORT CUresult cuMemcpyHtoAAsync_v2(CUarray dst, size_t offset, const void* src, size_t bytes,
                                                  CUstream stream) {
  RCUDA_DRIVER_REQUIRE_INIT();
  return Linear(dst, offset, const_cast<void*>(src), bytes, true, Stream(stream), true);
}

RCUDA_DRIVER_EXPORT CUresult cuMemcpyAtoH_v2(void* dst, CUarray src, size_t offset, size_t bytes) {
  RCUDA_DRIVER_REQUIRE_INIT();
  return Linear(src, offset, dst, bytes, false, nullptr, false);
}

RCUDA_DRIVER_EXPORT CUresult cuMemcpyAtoHAsync_v2(void* dst, CUarray src, size_t offset, size_t bytes,
                                                  CUstream stream) {
  RCUDA_DRIVER_REQUIRE_INIT();
  return Linear(src, offset, dst, bytes, false, Stream(stream), true);
}

RCUDA_DRIVER_EXPORT CUresult cuMemcpyDtoA_v2(CUarray dst, size_t offset, CUdeviceptr src, size_t bytes) {
  RCUDA_DRIVER_REQUIRE_INIT();
  return Linear(dst, offset, Ptr(src), bytes, true, nullptr, false);
}

RCUDA_DRIVER_EXPORT CUresult cuMemcpyAtoD_v2(CUdeviceptr dst, CUarray src, size_t offset, size_t bytes) {
  RCUDA_DRIVER_REQUIRE_INIT();
  return Linear(src, offset, Ptr(dst), bytes, false, nullptr, false);
}

RCUDA_DRIVER_EXPORT CUresult cuMemcpyAtoA_v2(CUarray dst, size_t dst_offset, CUarray src, size_t src_offset,
                                             size_t bytes) {
  RCUDA_DRIVER_REQUIRE_INIT();
  CUDA_MEMCPY2D c{};
  c.WidthInBytes = bytes;
  c.Height = 1;
  c.srcMemoryType = c.dstMemoryType = CU_MEMORYTYPE_ARRAY;
  c.srcArray = src, c.srcXInBytes = src_offset;
  c.dstArray = dst, c.dstXInBytes = dst_offset;
  return Memcpy2DWithArrays(c, nullptr, false);
}

}  // extern "C"
