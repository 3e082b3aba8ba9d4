// CUDA arrays, texture and surface objects (docs/design.md, "Arrays and
// textures"). An array lives on the worker; the program's cudaArray_t is the
// address of the client's record of it (its session, the worker's handle, its
// shape), found in a table before it is used, so that a made-up or freed
// handle is an error, never a dereference. Texture and surface objects are
// the worker driver's own values (kernels take them by value); the client
// keeps their descriptors for the cudaGet*ObjectResourceDesc calls.
#include <cuda.h>

#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "client/api_common.h"
#include "client/objects.h"
#include "protocol/array_format.h"

using namespace rcuda::client;

namespace {

struct ArrayRecord {
  Session* session = nullptr;
  uint64_t remote = 0;
  cudaChannelFormatDesc desc{};
  cudaExtent extent{};  // as the program gave it (0 height or depth: fewer dimensions)
  unsigned flags = 0;
  uint64_t row_bytes = 0;
  uint64_t rows = 1;
};

struct ObjectRecord {
  Session* session = nullptr;
  cudaResourceDesc resource{};
  cudaTextureDesc texture{};
};

struct Tables {
  std::mutex mu;
  std::map<const void*, std::unique_ptr<ArrayRecord>> arrays;  // by cudaArray_t
  std::map<uint64_t, ObjectRecord> textures, surfaces;
};

Tables& T() {
  static Tables* tables = new Tables;  // never destroyed: exports may run during exit
  return *tables;
}

// A copy of the record behind `array`, or false for one this process does
// not hold.
bool FindArray(const void* array, ArrayRecord* out) {
  std::lock_guard lock(T().mu);
  auto it = T().arrays.find(array);
  if (it == T().arrays.end()) return false;
  *out = *it->second;
  return true;
}

// The driver's element format of a channel descriptor: equal channels of 8,
// 16 or 32 bits (16-bit floats: half), 1, 2 or 4 of them.
bool FormatOf(const cudaChannelFormatDesc& d, int64_t* format, int64_t* channels) {
  const int bits[4] = {d.x, d.y, d.z, d.w};
  int n = 0;
  while (n < 4 && bits[n] != 0) ++n;
  for (int i = n; i < 4; ++i)
    if (bits[i] != 0) return false;
  if (n == 0 || n == 3) return false;
  for (int i = 1; i < n; ++i)
    if (bits[i] != bits[0]) return false;
  const int b = bits[0];
  switch (d.f) {
    case cudaChannelFormatKindUnsigned:
      *format = b == 8 ? CU_AD_FORMAT_UNSIGNED_INT8 : b == 16 ? CU_AD_FORMAT_UNSIGNED_INT16 : b == 32 ? CU_AD_FORMAT_UNSIGNED_INT32 : 0;
      break;
    case cudaChannelFormatKindSigned:
      *format = b == 8 ? CU_AD_FORMAT_SIGNED_INT8 : b == 16 ? CU_AD_FORMAT_SIGNED_INT16 : b == 32 ? CU_AD_FORMAT_SIGNED_INT32 : 0;
      break;
    case cudaChannelFormatKindFloat:
      *format = b == 16 ? CU_AD_FORMAT_HALF : b == 32 ? CU_AD_FORMAT_FLOAT : 0;
      break;
    default:
      return false;
  }
  *channels = n;
  return *format != 0;
}

cudaError_t MallocArray(cudaArray_t* array, const cudaChannelFormatDesc* desc, cudaExtent extent, unsigned flags) {
  if (!array || !desc) return Fail(cudaErrorInvalidValue);
  int64_t format = 0, channels = 0;
  if (!FormatOf(*desc, &format, &channels)) return Fail(cudaErrorInvalidChannelDescriptor);
  RCUDA_CURRENT_SESSION(session);
  auto record = std::make_unique<ArrayRecord>();
  record->session = session;
  record->desc = *desc;
  record->extent = extent;
  record->flags = flags;
  record->row_bytes = uint64_t(extent.width) * rcuda::ArrayElementBytes(format, channels);
  record->rows = extent.height ? extent.height : 1;
  rcuda::Status s = session->ArrayCreate(static_cast<int64_t>(extent.width), static_cast<int64_t>(extent.height),
                                         static_cast<int64_t>(extent.depth), format, channels, flags,
                                         &record->remote);
  if (!s.ok()) return Return(s);
  std::lock_guard lock(T().mu);
  *array = reinterpret_cast<cudaArray_t>(record.get());
  T().arrays[record.get()] = std::move(record);
  return cudaSuccess;
}

// Whether `ptr` is device memory, for cudaMemcpyDefault.
bool IsDevice(const void* ptr) { return Runtime::Get().SessionOwning(ptr, 0) != nullptr; }

// The stream a copy goes on (the default one for the synchronous calls), in
// the array's session; a capturing stream refuses (not recorded in graphs).
cudaError_t CopyStream(const ArrayRecord& a, cudaStream_t stream, bool per_thread, bool async, uint64_t* remote) {
  StreamRef ref;
  cudaError_t e = ResolveStream(async ? stream : nullptr, per_thread, &ref);
  if (e != cudaSuccess) return e;
  if (ref.object && ref.object->capture) return cudaErrorStreamCaptureUnsupported;
  if (ref.session && ref.session != a.session) return cudaErrorInvalidResourceHandle;
  *remote = ref.remote;
  return cudaSuccess;
}

cudaError_t CheckRectangle(const ArrayRecord& a, size_t x, size_t y, size_t width, size_t height) {
  if (x > a.row_bytes || width > a.row_bytes - x || y > a.rows || height > a.rows - y) return cudaErrorInvalidValue;
  return cudaSuccess;
}

cudaError_t ToArray(cudaArray_t dst, size_t x, size_t y, const void* src, size_t spitch, size_t width, size_t height,
                    cudaMemcpyKind kind, cudaStream_t stream, bool per_thread, bool async) {
  ArrayRecord a;
  if (!FindArray(dst, &a)) return Fail(cudaErrorInvalidResourceHandle);
  if (width == 0 || height == 0) return cudaSuccess;
  if (!src) return Fail(cudaErrorInvalidValue);
  if (height > 1 && spitch < width) return Fail(cudaErrorInvalidPitchValue);
  cudaError_t e = CheckRectangle(a, x, y, width, height);
  uint64_t remote = 0;
  if (e == cudaSuccess) e = CopyStream(a, stream, per_thread, async, &remote);
  if (e != cudaSuccess) return Fail(e);
  if (kind == cudaMemcpyDefault) kind = IsDevice(src) ? cudaMemcpyDeviceToDevice : cudaMemcpyHostToDevice;
  if (kind == cudaMemcpyDeviceToDevice) {
    return Return(a.session->ArrayCopyDevice(a.remote, x, y, reinterpret_cast<uint64_t>(src), spitch, width, height,
                                             true, remote));
  }
  if (kind != cudaMemcpyHostToDevice) return Fail(cudaErrorInvalidMemcpyDirection);
  const auto* bytes = static_cast<const uint8_t*>(src);
  std::vector<uint8_t> packed;
  if (spitch != width && height > 1) {
    packed.resize(width * height);
    for (size_t r = 0; r < height; ++r) std::memcpy(packed.data() + r * width, bytes + r * spitch, width);
    bytes = packed.data();
  }
  return Return(a.session->ArrayCopyFromHost(a.remote, x, y, width, height, remote, bytes));
}

cudaError_t FromArray(void* dst, size_t dpitch, cudaArray_const_t src, size_t x, size_t y, size_t width, size_t height,
                      cudaMemcpyKind kind, cudaStream_t stream, bool per_thread, bool async) {
  ArrayRecord a;
  if (!FindArray(src, &a)) return Fail(cudaErrorInvalidResourceHandle);
  if (width == 0 || height == 0) return cudaSuccess;
  if (!dst) return Fail(cudaErrorInvalidValue);
  if (height > 1 && dpitch < width) return Fail(cudaErrorInvalidPitchValue);
  cudaError_t e = CheckRectangle(a, x, y, width, height);
  uint64_t remote = 0;
  if (e == cudaSuccess) e = CopyStream(a, stream, per_thread, async, &remote);
  if (e != cudaSuccess) return Fail(e);
  if (kind == cudaMemcpyDefault) kind = IsDevice(dst) ? cudaMemcpyDeviceToDevice : cudaMemcpyDeviceToHost;
  if (kind == cudaMemcpyDeviceToDevice) {
    return Return(a.session->ArrayCopyDevice(a.remote, x, y, reinterpret_cast<uint64_t>(dst), dpitch, width, height,
                                             false, remote));
  }
  if (kind != cudaMemcpyDeviceToHost) return Fail(cudaErrorInvalidMemcpyDirection);
  // Packed rows come back; the asynchronous form completes before it
  // returns (as a copy to pageable memory may).
  auto* bytes = static_cast<uint8_t*>(dst);
  if (dpitch == width || height == 1) return Return(a.session->ArrayCopyToHost(a.remote, x, y, width, height, remote, bytes));
  std::vector<uint8_t> packed(width * height);
  rcuda::Status s = a.session->ArrayCopyToHost(a.remote, x, y, width, height, remote, packed.data());
  if (!s.ok()) return Return(s);
  for (size_t r = 0; r < height; ++r) std::memcpy(bytes + r * dpitch, packed.data() + r * width, width);
  return cudaSuccess;
}

uint64_t FloatBits(float a, float b) {
  uint32_t lo, hi;
  std::memcpy(&lo, &a, 4);
  std::memcpy(&hi, &b, 4);
  return uint64_t(lo) | (uint64_t(hi) << 32);
}

}  // namespace

cudaError_t exports::cudaMemcpy2DToArray(cudaArray_t dst, size_t w_offset, size_t h_offset, const void* src,
                                         size_t spitch, size_t width, size_t height, cudaMemcpyKind kind,
                                         bool per_thread) {
  return ToArray(dst, w_offset, h_offset, src, spitch, width, height, kind, nullptr, per_thread, false);
}

cudaError_t exports::cudaMemcpy2DToArrayAsync(cudaArray_t dst, size_t w_offset, size_t h_offset, const void* src,
                                              size_t spitch, size_t width, size_t height, cudaMemcpyKind kind,
                                              cudaStream_t stream, bool per_thread) {
  return ToArray(dst, w_offset, h_offset, src, spitch, width, height, kind, stream, per_thread, true);
}

cudaError_t exports::cudaMemcpy2DFromArray(void* dst, size_t dpitch, cudaArray_const_t src, size_t w_offset,
                                           size_t h_offset, size_t width, size_t height, cudaMemcpyKind kind,
                                           bool per_thread) {
  return FromArray(dst, dpitch, src, w_offset, h_offset, width, height, kind, nullptr, per_thread, false);
}

cudaError_t exports::cudaMemcpy2DFromArrayAsync(void* dst, size_t dpitch, cudaArray_const_t src, size_t w_offset,
                                                size_t h_offset, size_t width, size_t height, cudaMemcpyKind kind,
                                                cudaStream_t stream, bool per_thread) {
  return FromArray(dst, dpitch, src, w_offset, h_offset, width, height, kind, stream, per_thread, true);
}

extern "C" {

RCUDA_EXPORT cudaError_t cudaMallocArray(cudaArray_t* array, const cudaChannelFormatDesc* desc, size_t width,
                                         size_t height, unsigned int flags) {
  return MallocArray(array, desc, cudaExtent{width, height, 0}, flags);
}

RCUDA_EXPORT cudaError_t cudaMalloc3DArray(cudaArray_t* array, const cudaChannelFormatDesc* desc, cudaExtent extent,
                                           unsigned int flags) {
  return MallocArray(array, desc, extent, flags);
}

RCUDA_EXPORT cudaError_t cudaFreeArray(cudaArray_t array) {
  if (!array) return cudaSuccess;
  std::unique_ptr<ArrayRecord> record;
  {
    std::lock_guard lock(T().mu);
    auto it = T().arrays.find(array);
    if (it == T().arrays.end()) return Fail(cudaErrorInvalidResourceHandle);
    record = std::move(it->second);
    T().arrays.erase(it);
  }
  return Return(record->session->ArrayDestroy(record->remote));
}

RCUDA_EXPORT cudaError_t cudaArrayGetInfo(cudaChannelFormatDesc* desc, cudaExtent* extent, unsigned int* flags,
                                          cudaArray_t array) {
  ArrayRecord a;
  if (!FindArray(array, &a)) return Fail(cudaErrorInvalidResourceHandle);
  if (desc) *desc = a.desc;
  if (extent) *extent = a.extent;
  if (flags) *flags = a.flags;
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaGetChannelDesc(cudaChannelFormatDesc* desc, cudaArray_const_t array) {
  if (!desc) return Fail(cudaErrorInvalidValue);
  ArrayRecord a;
  if (!FindArray(array, &a)) return Fail(cudaErrorInvalidResourceHandle);
  *desc = a.desc;
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaCreateTextureObject(cudaTextureObject_t* object, const cudaResourceDesc* resource,
                                                 const cudaTextureDesc* texture, const cudaResourceViewDesc* view) {
  if (!object || !resource || !texture) return Fail(cudaErrorInvalidValue);
  const cudaTextureDesc& t = *texture;
  // What rcuda does not carry: views, mipmaps, sRGB, seamless cube maps.
  if (view || t.sRGB || t.seamlessCubemap || t.mipmapFilterMode != cudaFilterModePoint || t.mipmapLevelBias != 0 ||
      t.minMipmapLevelClamp != 0 || t.maxMipmapLevelClamp != 0 || resource->resType == cudaResourceTypeMipmappedArray) {
    return Fail(cudaErrorNotSupported);
  }
  int64_t res_type = 0, format = 0, channels = 0, device = 0, width = 0, height = 0, pitch = 0;
  uint64_t array = 0;
  Session* session = nullptr;
  switch (resource->resType) {
    case cudaResourceTypeArray: {
      ArrayRecord a;
      if (!FindArray(resource->res.array.array, &a)) return Fail(cudaErrorInvalidResourceHandle);
      session = a.session;
      array = a.remote;
      break;
    }
    case cudaResourceTypeLinear:
    case cudaResourceTypePitch2D: {
      const bool linear = resource->resType == cudaResourceTypeLinear;
      const void* ptr = linear ? resource->res.linear.devPtr : resource->res.pitch2D.devPtr;
      if (!FormatOf(linear ? resource->res.linear.desc : resource->res.pitch2D.desc, &format, &channels)) {
        return Fail(cudaErrorInvalidChannelDescriptor);
      }
      session = Runtime::Get().SessionOwning(ptr, 0);
      if (!session) return Fail(cudaErrorInvalidValue);
      res_type = linear ? 1 : 2;
      device = static_cast<int64_t>(reinterpret_cast<uint64_t>(ptr));
      width = static_cast<int64_t>(linear ? resource->res.linear.sizeInBytes : resource->res.pitch2D.width);
      height = linear ? 0 : static_cast<int64_t>(resource->res.pitch2D.height);
      pitch = linear ? 0 : static_cast<int64_t>(resource->res.pitch2D.pitchInBytes);
      break;
    }
    default:
      return Fail(cudaErrorInvalidValue);
  }
  const int64_t address = int64_t(t.addressMode[0]) | int64_t(t.addressMode[1]) << 8 | int64_t(t.addressMode[2]) << 16;
  int64_t flags = 0;
  if (t.readMode == cudaReadModeElementType) flags |= CU_TRSF_READ_AS_INTEGER;
  if (t.normalizedCoords) flags |= CU_TRSF_NORMALIZED_COORDINATES;
  if (t.disableTrilinearOptimization) flags |= CU_TRSF_DISABLE_TRILINEAR_OPTIMIZATION;
  uint64_t value = 0;
  rcuda::Status s = session->TexObjectCreate(
      res_type, array, device, format, channels, width, height, pitch, address, t.filterMode, flags,
      static_cast<int64_t>(FloatBits(t.borderColor[0], t.borderColor[1])),
      static_cast<int64_t>(FloatBits(t.borderColor[2], t.borderColor[3])), &value);
  if (!s.ok()) return Return(s);
  std::lock_guard lock(T().mu);
  T().textures[value] = ObjectRecord{session, *resource, *texture};
  *object = value;
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaCreateSurfaceObject(cudaSurfaceObject_t* object, const cudaResourceDesc* resource) {
  if (!object || !resource) return Fail(cudaErrorInvalidValue);
  if (resource->resType != cudaResourceTypeArray) return Fail(cudaErrorInvalidValue);
  ArrayRecord a;
  if (!FindArray(resource->res.array.array, &a)) return Fail(cudaErrorInvalidResourceHandle);
  uint64_t value = 0;
  rcuda::Status s = a.session->SurfObjectCreate(a.remote, &value);
  if (!s.ok()) return Return(s);
  std::lock_guard lock(T().mu);
  T().surfaces[value] = ObjectRecord{a.session, *resource, {}};
  *object = value;
  return cudaSuccess;
}

}  // extern "C"

namespace {

// Takes an object out of `objects` and destroys it on its session.
cudaError_t DestroyObject(std::map<uint64_t, ObjectRecord> Tables::*objects, uint64_t value, bool texture) {
  Session* session = nullptr;
  {
    std::lock_guard lock(T().mu);
    auto& table = T().*objects;
    auto it = table.find(value);
    if (it == table.end()) return Fail(cudaErrorInvalidValue);
    session = it->second.session;
    table.erase(it);
  }
  return Return(texture ? session->TexObjectDestroy(value) : session->SurfObjectDestroy(value));
}

// A copy of an object's record, or false.
bool FindObject(std::map<uint64_t, ObjectRecord> Tables::*objects, uint64_t value, ObjectRecord* out) {
  std::lock_guard lock(T().mu);
  auto& table = T().*objects;
  auto it = table.find(value);
  if (it == table.end()) return false;
  *out = it->second;
  return true;
}

}  // namespace

extern "C" {

RCUDA_EXPORT cudaError_t cudaDestroyTextureObject(cudaTextureObject_t object) {
  if (object == 0) return cudaSuccess;
  return DestroyObject(&Tables::textures, object, true);
}

RCUDA_EXPORT cudaError_t cudaDestroySurfaceObject(cudaSurfaceObject_t object) {
  if (object == 0) return cudaSuccess;
  return DestroyObject(&Tables::surfaces, object, false);
}

RCUDA_EXPORT cudaError_t cudaGetTextureObjectResourceDesc(cudaResourceDesc* desc, cudaTextureObject_t object) {
  ObjectRecord o;
  if (!desc || !FindObject(&Tables::textures, object, &o)) return Fail(cudaErrorInvalidValue);
  *desc = o.resource;
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaGetTextureObjectTextureDesc(cudaTextureDesc* desc, cudaTextureObject_t object) {
  ObjectRecord o;
  if (!desc || !FindObject(&Tables::textures, object, &o)) return Fail(cudaErrorInvalidValue);
  *desc = o.texture;
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaGetSurfaceObjectResourceDesc(cudaResourceDesc* desc, cudaSurfaceObject_t object) {
  ObjectRecord o;
  if (!desc || !FindObject(&Tables::surfaces, object, &o)) return Fail(cudaErrorInvalidValue);
  *desc = o.resource;
  return cudaSuccess;
}

}  // extern "C"
