// The driver API's CUDA arrays, mipmapped arrays, texture and surface
// objects, forwarded through rcuda's libcudart: a CUarray is the runtime's
// cudaArray_t, a CUmipmappedArray its cudaMipmappedArray_t, and texture and
// surface objects are the runtime's (the worker driver's values). The
// descriptors are translated field by field; what the runtime side refuses
// (resource views, formats rcuda does not carry) is refused here too. The
// copies are driver_array_copies.cc's.
#include <cuda.h>
#include <cuda_runtime_api.h>

#include <cstring>

#include "client/driver/driver_state.h"
#include "client/driver/driver_unsupported.h"

using namespace rcuda::client::driver;

namespace {

cudaArray_t Array(CUarray a) { return reinterpret_cast<cudaArray_t>(a); }
cudaMipmappedArray_t Mipmap(CUmipmappedArray m) { return reinterpret_cast<cudaMipmappedArray_t>(m); }

// The runtime's channel descriptor of `channels` components of `format`;
// false for a format or count rcuda does not carry.
bool ChannelOf(CUarray_format format, unsigned channels, cudaChannelFormatDesc* desc) {
  int bits = 0;
  cudaChannelFormatKind kind = cudaChannelFormatKindNone;
  switch (format) {
    case CU_AD_FORMAT_UNSIGNED_INT8: bits = 8, kind = cudaChannelFormatKindUnsigned; break;
    case CU_AD_FORMAT_UNSIGNED_INT16: bits = 16, kind = cudaChannelFormatKindUnsigned; break;
    case CU_AD_FORMAT_UNSIGNED_INT32: bits = 32, kind = cudaChannelFormatKindUnsigned; break;
    case CU_AD_FORMAT_SIGNED_INT8: bits = 8, kind = cudaChannelFormatKindSigned; break;
    case CU_AD_FORMAT_SIGNED_INT16: bits = 16, kind = cudaChannelFormatKindSigned; break;
    case CU_AD_FORMAT_SIGNED_INT32: bits = 32, kind = cudaChannelFormatKindSigned; break;
    case CU_AD_FORMAT_HALF: bits = 16, kind = cudaChannelFormatKindFloat; break;
    case CU_AD_FORMAT_FLOAT: bits = 32, kind = cudaChannelFormatKindFloat; break;
    default: return false;
  }
  if (channels != 1 && channels != 2 && channels != 4) return false;
  *desc = cudaChannelFormatDesc{bits, channels > 1 ? bits : 0, channels > 2 ? bits : 0, channels > 2 ? bits : 0, kind};
  return true;
}

// The driver's format and channel count of a runtime channel descriptor.
bool FormatOf(const cudaChannelFormatDesc& d, CUarray_format* format, unsigned* channels) {
  *channels = d.w ? 4 : d.z ? 3 : d.y ? 2 : 1;
  switch (d.f) {
    case cudaChannelFormatKindUnsigned:
      *format = d.x == 8 ? CU_AD_FORMAT_UNSIGNED_INT8 : d.x == 16 ? CU_AD_FORMAT_UNSIGNED_INT16 : CU_AD_FORMAT_UNSIGNED_INT32;
      return d.x == 8 || d.x == 16 || d.x == 32;
    case cudaChannelFormatKindSigned:
      *format = d.x == 8 ? CU_AD_FORMAT_SIGNED_INT8 : d.x == 16 ? CU_AD_FORMAT_SIGNED_INT16 : CU_AD_FORMAT_SIGNED_INT32;
      return d.x == 8 || d.x == 16 || d.x == 32;
    case cudaChannelFormatKindFloat:
      *format = d.x == 16 ? CU_AD_FORMAT_HALF : CU_AD_FORMAT_FLOAT;
      return d.x == 16 || d.x == 32;
    default:
      return false;
  }
}

CUresult Describe(CUarray array, CUDA_ARRAY3D_DESCRIPTOR* out) {
  cudaChannelFormatDesc desc{};
  cudaExtent extent{};
  unsigned flags = 0;
  if (cudaError_t e = cudaArrayGetInfo(&desc, &extent, &flags, Array(array))) return FromRuntime(e);
  *out = CUDA_ARRAY3D_DESCRIPTOR{};
  if (!FormatOf(desc, &out->Format, &out->NumChannels)) return CUDA_ERROR_INVALID_VALUE;
  out->Width = extent.width;
  out->Height = extent.height;
  out->Depth = extent.depth;
  out->Flags = flags;  // CUDA_ARRAY3D_* and cudaArray* flags have the same values
  return CUDA_SUCCESS;
}

// A driver resource descriptor as the runtime's, and back.
CUresult ToRuntime(const CUDA_RESOURCE_DESC& r, cudaResourceDesc* out) {
  *out = cudaResourceDesc{};
  if (r.flags != 0) return CUDA_ERROR_INVALID_VALUE;
  switch (r.resType) {
    case CU_RESOURCE_TYPE_ARRAY:
      out->resType = cudaResourceTypeArray;
      out->res.array.array = Array(r.res.array.hArray);
      return CUDA_SUCCESS;
    case CU_RESOURCE_TYPE_MIPMAPPED_ARRAY:
      out->resType = cudaResourceTypeMipmappedArray;
      out->res.mipmap.mipmap = Mipmap(r.res.mipmap.hMipmappedArray);
      return CUDA_SUCCESS;
    case CU_RESOURCE_TYPE_LINEAR:
      out->resType = cudaResourceTypeLinear;
      out->res.linear.devPtr = reinterpret_cast<void*>(static_cast<uintptr_t>(r.res.linear.devPtr));
      out->res.linear.sizeInBytes = r.res.linear.sizeInBytes;
      return ChannelOf(r.res.linear.format, r.res.linear.numChannels, &out->res.linear.desc) ? CUDA_SUCCESS
                                                                                             : CUDA_ERROR_INVALID_VALUE;
    case CU_RESOURCE_TYPE_PITCH2D:
      out->resType = cudaResourceTypePitch2D;
      out->res.pitch2D.devPtr = reinterpret_cast<void*>(static_cast<uintptr_t>(r.res.pitch2D.devPtr));
      out->res.pitch2D.width = r.res.pitch2D.width;
      out->res.pitch2D.height = r.res.pitch2D.height;
      out->res.pitch2D.pitchInBytes = r.res.pitch2D.pitchInBytes;
      return ChannelOf(r.res.pitch2D.format, r.res.pitch2D.numChannels, &out->res.pitch2D.desc)
                 ? CUDA_SUCCESS
                 : CUDA_ERROR_INVALID_VALUE;
    default:
      return CUDA_ERROR_INVALID_VALUE;
  }
}

CUresult ToDriver(const cudaResourceDesc& r, CUDA_RESOURCE_DESC* out) {
  *out = CUDA_RESOURCE_DESC{};
  switch (r.resType) {
    case cudaResourceTypeArray:
      out->resType = CU_RESOURCE_TYPE_ARRAY;
      out->res.array.hArray = reinterpret_cast<CUarray>(r.res.array.array);
      return CUDA_SUCCESS;
    case cudaResourceTypeMipmappedArray:
      out->resType = CU_RESOURCE_TYPE_MIPMAPPED_ARRAY;
      out->res.mipmap.hMipmappedArray = reinterpret_cast<CUmipmappedArray>(r.res.mipmap.mipmap);
      return CUDA_SUCCESS;
    case cudaResourceTypeLinear:
      out->resType = CU_RESOURCE_TYPE_LINEAR;
      out->res.linear.devPtr = reinterpret_cast<uintptr_t>(r.res.linear.devPtr);
      out->res.linear.sizeInBytes = r.res.linear.sizeInBytes;
      return FormatOf(r.res.linear.desc, &out->res.linear.format, &out->res.linear.numChannels)
                 ? CUDA_SUCCESS
                 : CUDA_ERROR_INVALID_VALUE;
    case cudaResourceTypePitch2D:
      out->resType = CU_RESOURCE_TYPE_PITCH2D;
      out->res.pitch2D.devPtr = reinterpret_cast<uintptr_t>(r.res.pitch2D.devPtr);
      out->res.pitch2D.width = r.res.pitch2D.width;
      out->res.pitch2D.height = r.res.pitch2D.height;
      out->res.pitch2D.pitchInBytes = r.res.pitch2D.pitchInBytes;
      return FormatOf(r.res.pitch2D.desc, &out->res.pitch2D.format, &out->res.pitch2D.numChannels)
                 ? CUDA_SUCCESS
                 : CUDA_ERROR_INVALID_VALUE;
    default:
      return CUDA_ERROR_INVALID_VALUE;
  }
}

// The runtime's texture descriptor of a driver one (the address and filter
// modes have the same values; the flags become fields).
cudaTextureDesc ToRuntime(const CUDA_TEXTURE_DESC& t) {
  cudaTextureDesc out{};
  for (int i = 0; i < 3; ++i) out.addressMode[i] = static_cast<cudaTextureAddressMode>(t.addressMode[i]);
  out.filterMode = static_cast<cudaTextureFilterMode>(t.filterMode);
  out.readMode = (t.flags & CU_TRSF_READ_AS_INTEGER) ? cudaReadModeElementType : cudaReadModeNormalizedFloat;
  out.sRGB = (t.flags & CU_TRSF_SRGB) ? 1 : 0;
  std::memcpy(out.borderColor, t.borderColor, sizeof out.borderColor);
  out.normalizedCoords = (t.flags & CU_TRSF_NORMALIZED_COORDINATES) ? 1 : 0;
  out.maxAnisotropy = t.maxAnisotropy;
  out.mipmapFilterMode = static_cast<cudaTextureFilterMode>(t.mipmapFilterMode);
  out.mipmapLevelBias = t.mipmapLevelBias;
  out.minMipmapLevelClamp = t.minMipmapLevelClamp;
  out.maxMipmapLevelClamp = t.maxMipmapLevelClamp;
  out.disableTrilinearOptimization = (t.flags & CU_TRSF_DISABLE_TRILINEAR_OPTIMIZATION) ? 1 : 0;
  out.seamlessCubemap = (t.flags & CU_TRSF_SEAMLESS_CUBEMAP) ? 1 : 0;
  return out;
}

CUresult Create3D(CUarray* array, const CUDA_ARRAY3D_DESCRIPTOR& d) {
  if (!array) return CUDA_ERROR_INVALID_VALUE;
  cudaChannelFormatDesc desc{};
  if (!ChannelOf(d.Format, d.NumChannels, &desc)) return CUDA_ERROR_INVALID_VALUE;
  cudaArray_t a = nullptr;
  if (cudaError_t e = cudaMalloc3DArray(&a, &desc, cudaExtent{d.Width, d.Height, d.Depth}, d.Flags)) {
    return FromRuntime(e);
  }
  *array = reinterpret_cast<CUarray>(a);
  return CUDA_SUCCESS;
}

}  // namespace


extern "C" {

RCUDA_DRIVER_EXPORT CUresult cuArrayCreate_v2(CUarray* array, const CUDA_ARRAY_DESCRIPTOR* d) {
  RCUDA_DRIVER_REQUIRE_INIT();
  if (!d) return CUDA_ERROR_INVALID_VALUE;
  CUDA_ARRAY3D_DESCRIPTOR d3{};
  d3.Width = d->Width, d3.Height = d->Height, d3.Format = d->Format, d3.NumChannels = d->NumChannels;
  return Create3D(array, d3);
}

RCUDA_DRIVER_EXPORT CUresult cuArray3DCreate_v2(CUarray* array, const CUDA_ARRAY3D_DESCRIPTOR* d) {
  RCUDA_DRIVER_REQUIRE_INIT();
  if (!d) return CUDA_ERROR_INVALID_VALUE;
  return Create3D(array, *d);
}

RCUDA_DRIVER_EXPORT CUresult cuArrayDestroy(CUarray array) {
  RCUDA_DRIVER_REQUIRE_INIT();
  if (!array) return CUDA_ERROR_INVALID_HANDLE;
  return FromRuntime(cudaFreeArray(Array(array)));
}

RCUDA_DRIVER_EXPORT CUresult cuArrayGetDescriptor_v2(CUDA_ARRAY_DESCRIPTOR* out, CUarray array) {
  RCUDA_DRIVER_REQUIRE_INIT();
  if (!out) return CUDA_ERROR_INVALID_VALUE;
  CUDA_ARRAY3D_DESCRIPTOR d{};
  if (CUresult r = Describe(array, &d)) return r;
  *out = CUDA_ARRAY_DESCRIPTOR{d.Width, d.Height, d.Format, d.NumChannels};
  return CUDA_SUCCESS;
}

RCUDA_DRIVER_EXPORT CUresult cuArray3DGetDescriptor_v2(CUDA_ARRAY3D_DESCRIPTOR* out, CUarray array) {
  RCUDA_DRIVER_REQUIRE_INIT();
  if (!out) return CUDA_ERROR_INVALID_VALUE;
  return Describe(array, out);
}

RCUDA_DRIVER_EXPORT CUresult cuMipmappedArrayCreate(CUmipmappedArray* mipmap, const CUDA_ARRAY3D_DESCRIPTOR* d,
                                                    unsigned int levels) {
  RCUDA_DRIVER_REQUIRE_INIT();
  if (!mipmap || !d) return CUDA_ERROR_INVALID_VALUE;
  cudaChannelFormatDesc desc{};
  if (!ChannelOf(d->Format, d->NumChannels, &desc)) return CUDA_ERROR_INVALID_VALUE;
  cudaMipmappedArray_t m = nullptr;
  if (cudaError_t e = cudaMallocMipmappedArray(&m, &desc, cudaExtent{d->Width, d->Height, d->Depth}, levels,
                                               d->Flags)) {
    return FromRuntime(e);
  }
  *mipmap = reinterpret_cast<CUmipmappedArray>(m);
  return CUDA_SUCCESS;
}

RCUDA_DRIVER_EXPORT CUresult cuMipmappedArrayGetLevel(CUarray* level_array, CUmipmappedArray mipmap,
                                                      unsigned int level) {
  RCUDA_DRIVER_REQUIRE_INIT();
  if (!level_array) return CUDA_ERROR_INVALID_VALUE;
  cudaArray_t a = nullptr;
  if (cudaError_t e = cudaGetMipmappedArrayLevel(&a, Mipmap(mipmap), level)) return FromRuntime(e);
  *level_array = reinterpret_cast<CUarray>(a);
  return CUDA_SUCCESS;
}

RCUDA_DRIVER_EXPORT CUresult cuMipmappedArrayDestroy(CUmipmappedArray mipmap) {
  RCUDA_DRIVER_REQUIRE_INIT();
  if (!mipmap) return CUDA_ERROR_INVALID_HANDLE;
  return FromRuntime(cudaFreeMipmappedArray(Mipmap(mipmap)));
}

RCUDA_DRIVER_EXPORT CUresult cuTexObjectCreate(CUtexObject* object, const CUDA_RESOURCE_DESC* resource,
                                               const CUDA_TEXTURE_DESC* texture, const CUDA_RESOURCE_VIEW_DESC* view) {
  RCUDA_DRIVER_REQUIRE_INIT();
  if (!object || !resource || !texture) return CUDA_ERROR_INVALID_VALUE;
  if (view) return static_cast<CUresult>(Unsupported("cuTexObjectCreate (resource views)"));
  cudaResourceDesc r{};
  if (CUresult e = ToRuntime(*resource, &r)) return e;
  const cudaTextureDesc t = ToRuntime(*texture);
  cudaTextureObject_t value = 0;
  if (cudaError_t e = cudaCreateTextureObject(&value, &r, &t, nullptr)) return FromRuntime(e);
  *object = value;
  return CUDA_SUCCESS;
}

RCUDA_DRIVER_EXPORT CUresult cuTexObjectDestroy(CUtexObject object) {
  RCUDA_DRIVER_REQUIRE_INIT();
  return FromRuntime(cudaDestroyTextureObject(object));
}

RCUDA_DRIVER_EXPORT CUresult cuTexObjectGetResourceDesc(CUDA_RESOURCE_DESC* out, CUtexObject object) {
  RCUDA_DRIVER_REQUIRE_INIT();
  if (!out) return CUDA_ERROR_INVALID_VALUE;
  cudaResourceDesc r{};
  if (cudaError_t e = cudaGetTextureObjectResourceDesc(&r, object)) return FromRuntime(e);
  return ToDriver(r, out);
}

RCUDA_DRIVER_EXPORT CUresult cuSurfObjectCreate(CUsurfObject* object, const CUDA_RESOURCE_DESC* resource) {
  RCUDA_DRIVER_REQUIRE_INIT();
  if (!object || !resource) return CUDA_ERROR_INVALID_VALUE;
  cudaResourceDesc r{};
  if (CUresult e = ToRuntime(*resource, &r)) return e;
  cudaSurfaceObject_t value = 0;
  if (cudaError_t e = cudaCreateSurfaceObject(&value, &r)) return FromRuntime(e);
  *object = value;
  return CUDA_SUCCESS;
}

RCUDA_DRIVER_EXPORT CUresult cuSurfObjectDestroy(CUsurfObject object) {
  RCUDA_DRIVER_REQUIRE_INIT();
  return FromRuntime(cudaDestroySurfaceObject(object));
}

}  // extern "C"
