// CUDA arrays, texture and surface objects (docs/design.md, "Arrays and
// textures"). An array lives on the worker; the program's cudaArray_t is the
// address of the client's record of it (client/array_records.h). Texture and surface objects are
// the worker driver's own values (kernels take them by value); the client
// keeps their descriptors for the cudaGet*ObjectResourceDesc calls.
#include <cuda.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "client/api_common.h"
#include "client/array_records.h"
#include "client/objects.h"
#include "protocol/array_format.h"

using namespace rcuda::client;

namespace {

ArrayTables& T() { return Arrays(); }

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
  record->layers = extent.depth ? extent.depth : 1;
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

// A box of `depth` layers of `height` rows of `width` bytes at byte x, row
// y, layer z of an array; host or device memory on the other side, its rows
// `pitch` bytes apart and its layers `slice` bytes apart.
struct ArrayBox {
  size_t x = 0, y = 0, z = 0, width = 0, height = 1, depth = 1;
  void* memory = nullptr;
  size_t pitch = 0, slice = 0;
};

cudaError_t CheckBox(const ArrayRecord& a, const ArrayBox& b) {
  if (b.x > a.row_bytes || b.width > a.row_bytes - b.x || b.y > a.rows || b.height > a.rows - b.y ||
      b.z > a.layers || b.depth > a.layers - b.z) {
    return cudaErrorInvalidValue;
  }
  return cudaSuccess;
}

// One layer of a box at a time (the wire's rows count across the layers:
// row y of layer z is z * rows + y); host rows travel packed.
cudaError_t CopyBox(const ArrayRecord& a, const ArrayBox& b, bool to_array, cudaMemcpyKind kind, cudaStream_t stream,
                    bool per_thread, bool async) {
  if (b.width == 0 || b.height == 0 || b.depth == 0) return cudaSuccess;
  if (!b.memory) return Fail(cudaErrorInvalidValue);
  if (b.height > 1 && b.pitch < b.width) return Fail(cudaErrorInvalidPitchValue);
  if (b.depth > 1 && b.slice < b.pitch * (b.height - 1) + b.width) return Fail(cudaErrorInvalidValue);
  cudaError_t e = CheckBox(a, b);
  uint64_t remote = 0;
  if (e == cudaSuccess) e = CopyStream(a, stream, per_thread, async, &remote);
  if (e != cudaSuccess) return Fail(e);
  if (kind == cudaMemcpyDefault) {
    kind = IsDevice(b.memory) ? cudaMemcpyDeviceToDevice : to_array ? cudaMemcpyHostToDevice : cudaMemcpyDeviceToHost;
  }
  if (kind != cudaMemcpyDeviceToDevice && kind != (to_array ? cudaMemcpyHostToDevice : cudaMemcpyDeviceToHost)) {
    return Fail(cudaErrorInvalidMemcpyDirection);
  }
  std::vector<uint8_t> packed;
  for (size_t layer = 0; layer < b.depth; ++layer) {
    auto* bytes = static_cast<uint8_t*>(b.memory) + layer * b.slice;
    const uint64_t row = (b.z + layer) * a.rows + b.y;
    rcuda::Status s;
    if (kind == cudaMemcpyDeviceToDevice) {
      s = a.session->ArrayCopyDevice(a.remote, b.x, row, reinterpret_cast<uint64_t>(bytes), b.pitch, b.width,
                                     b.height, to_array, remote);
    } else if (b.pitch == b.width || b.height == 1) {
      s = to_array ? a.session->ArrayCopyFromHost(a.remote, b.x, row, b.width, b.height, remote, bytes)
                   : a.session->ArrayCopyToHost(a.remote, b.x, row, b.width, b.height, remote, bytes);
    } else {
      packed.resize(b.width * b.height);
      if (to_array) {
        for (size_t r = 0; r < b.height; ++r) std::memcpy(packed.data() + r * b.width, bytes + r * b.pitch, b.width);
        s = a.session->ArrayCopyFromHost(a.remote, b.x, row, b.width, b.height, remote, packed.data());
      } else {
        // The asynchronous form completes before it returns (as a copy to
        // pageable memory may).
        s = a.session->ArrayCopyToHost(a.remote, b.x, row, b.width, b.height, remote, packed.data());
        for (size_t r = 0; s.ok() && r < b.height; ++r) {
          std::memcpy(bytes + r * b.pitch, packed.data() + r * b.width, b.width);
        }
      }
    }
    if (!s.ok()) return Return(s);
  }
  return cudaSuccess;
}

cudaError_t ToArray(cudaArray_t dst, size_t x, size_t y, const void* src, size_t spitch, size_t width, size_t height,
                    cudaMemcpyKind kind, cudaStream_t stream, bool per_thread, bool async) {
  ArrayRecord a;
  if (!FindArray(dst, &a)) return Fail(cudaErrorInvalidResourceHandle);
  ArrayBox b;
  b.x = x, b.y = y, b.width = width, b.height = height, b.memory = const_cast<void*>(src), b.pitch = spitch;
  return CopyBox(a, b, /*to_array=*/true, kind, stream, per_thread, async);
}

cudaError_t FromArray(void* dst, size_t dpitch, cudaArray_const_t src, size_t x, size_t y, size_t width, size_t height,
                      cudaMemcpyKind kind, cudaStream_t stream, bool per_thread, bool async) {
  ArrayRecord a;
  if (!FindArray(src, &a)) return Fail(cudaErrorInvalidResourceHandle);
  ArrayBox b;
  b.x = x, b.y = y, b.width = width, b.height = height, b.memory = dst, b.pitch = dpitch;
  return CopyBox(a, b, /*to_array=*/false, kind, stream, per_thread, async);
}

// The bytes of one element of an array.
uint64_t ElementBytes(const ArrayRecord& a) {
  return (uint64_t(a.desc.x) + a.desc.y + a.desc.z + a.desc.w) / 8;
}

// The deprecated 1-D copies: `count` bytes from byte x of row y on, through
// the ends of rows (the array's rows as one run of bytes): at most a partial
// first row, whole rows, a partial last row.
cudaError_t CopyRun(const void* array, size_t x, size_t y, void* memory, size_t count, bool to_array,
                    cudaMemcpyKind kind, cudaStream_t stream, bool per_thread, bool async) {
  ArrayRecord a;
  if (!FindArray(array, &a)) return Fail(cudaErrorInvalidResourceHandle);
  if (count == 0) return cudaSuccess;
  if (a.row_bytes == 0 || x >= a.row_bytes || y >= a.rows) return Fail(cudaErrorInvalidValue);
  const uint64_t start = uint64_t(y) * a.row_bytes + x;
  if (count > a.row_bytes * a.rows - start) return Fail(cudaErrorInvalidValue);
  auto* bytes = static_cast<uint8_t*>(memory);
  size_t done = 0;
  while (done < count) {
    const uint64_t at = start + done, row = at / a.row_bytes, column = at % a.row_bytes;
    ArrayBox b;
    b.x = column, b.y = row, b.memory = bytes + done;
    if (column != 0 || count - done < a.row_bytes) {
      b.width = std::min<uint64_t>(a.row_bytes - column, count - done);
      b.pitch = b.width;
    } else {
      b.width = a.row_bytes, b.pitch = a.row_bytes;
      b.height = (count - done) / a.row_bytes;
    }
    cudaError_t e = CopyBox(a, b, to_array, kind, stream, per_thread, async);
    if (e != cudaSuccess) return e;
    done += b.width * b.height;
  }
  return cudaSuccess;
}

// Array to array: through a device buffer of the session, on the stream
// (both arrays must be of one session; arrays of different element sizes
// are the caller's to refuse).
cudaError_t ArrayToArray(const void* dst, const void* src, const ArrayBox& to, const ArrayBox& from,
                         cudaMemcpyKind kind, cudaStream_t stream, bool per_thread, bool async) {
  ArrayRecord d, s;
  if (!FindArray(dst, &d) || !FindArray(src, &s)) return Fail(cudaErrorInvalidResourceHandle);
  if (kind != cudaMemcpyDeviceToDevice && kind != cudaMemcpyDefault) return Fail(cudaErrorInvalidMemcpyDirection);
  if (d.session != s.session) return Fail(cudaErrorInvalidValue);
  if (from.width == 0 || from.height == 0 || from.depth == 0) return cudaSuccess;
  cudaError_t e = CheckBox(d, to);
  if (e == cudaSuccess) e = CheckBox(s, from);
  uint64_t remote = 0;
  if (e == cudaSuccess) e = CopyStream(s, stream, per_thread, async, &remote);
  if (e != cudaSuccess) return Fail(e);
  const uint64_t layer_bytes = uint64_t(from.width) * from.height;
  uint64_t buffer = 0;
  rcuda::Status st = s.session->MallocAsync(static_cast<int64_t>(layer_bytes * from.depth), remote, 0, &buffer);
  if (!st.ok()) return Return(st);
  for (size_t layer = 0; st.ok() && layer < from.depth; ++layer) {
    const uint64_t at = buffer + layer * layer_bytes;
    st = s.session->ArrayCopyDevice(s.remote, from.x, (from.z + layer) * s.rows + from.y, at, from.width, from.width,
                                    from.height, /*to_array=*/false, remote);
    if (st.ok()) {
      st = d.session->ArrayCopyDevice(d.remote, to.x, (to.z + layer) * d.rows + to.y, at, from.width, from.width,
                                      from.height, /*to_array=*/true, remote);
    }
  }
  rcuda::Status freed = s.session->FreeAsync(buffer, remote);
  return Return(st.ok() ? freed : st);
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

cudaError_t exports::cudaMemcpyToArray(cudaArray_t dst, size_t w_offset, size_t h_offset, const void* src,
                                       size_t count, cudaMemcpyKind kind, bool per_thread) {
  return CopyRun(dst, w_offset, h_offset, const_cast<void*>(src), count, true, kind, nullptr, per_thread, false);
}

cudaError_t exports::cudaMemcpyToArrayAsync(cudaArray_t dst, size_t w_offset, size_t h_offset, const void* src,
                                            size_t count, cudaMemcpyKind kind, cudaStream_t stream, bool per_thread) {
  return CopyRun(dst, w_offset, h_offset, const_cast<void*>(src), count, true, kind, stream, per_thread, true);
}

cudaError_t exports::cudaMemcpyFromArray(void* dst, cudaArray_const_t src, size_t w_offset, size_t h_offset,
                                         size_t count, cudaMemcpyKind kind, bool per_thread) {
  return CopyRun(src, w_offset, h_offset, dst, count, false, kind, nullptr, per_thread, false);
}

cudaError_t exports::cudaMemcpyFromArrayAsync(void* dst, cudaArray_const_t src, size_t w_offset, size_t h_offset,
                                              size_t count, cudaMemcpyKind kind, cudaStream_t stream,
                                              bool per_thread) {
  return CopyRun(src, w_offset, h_offset, dst, count, false, kind, stream, per_thread, true);
}

cudaError_t exports::cudaMemcpy2DArrayToArray(cudaArray_t dst, size_t w_offset_dst, size_t h_offset_dst,
                                              cudaArray_const_t src, size_t w_offset_src, size_t h_offset_src,
                                              size_t width, size_t height, cudaMemcpyKind kind, bool per_thread) {
  ArrayBox to, from;
  to.x = w_offset_dst, to.y = h_offset_dst, to.width = width, to.height = height;
  from.x = w_offset_src, from.y = h_offset_src, from.width = width, from.height = height;
  return ArrayToArray(dst, src, to, from, kind, nullptr, per_thread, false);
}

// Within a row only: the deprecated call's wrapping through rows is not
// carried for array-to-array copies (refused, not guessed).
cudaError_t exports::cudaMemcpyArrayToArray(cudaArray_t dst, size_t w_offset_dst, size_t h_offset_dst,
                                            cudaArray_const_t src, size_t w_offset_src, size_t h_offset_src,
                                            size_t count, cudaMemcpyKind kind, bool per_thread) {
  return exports::cudaMemcpy2DArrayToArray(dst, w_offset_dst, h_offset_dst, src, w_offset_src, h_offset_src, count,
                                           1, kind, per_thread);
}

namespace rcuda::client {

cudaError_t CopyArrayParms3D(const cudaMemcpy3DParms* p, cudaStream_t stream, bool per_thread, bool async) {
  if ((p->srcArray && p->srcPtr.ptr) || (p->dstArray && p->dstPtr.ptr)) return Fail(cudaErrorInvalidValue);
  cudaMemcpyKind kind;
  std::memcpy(&kind, &p->kind, sizeof kind);
  // Positions in each side's elements (bytes for memory), the extent in the
  // array's elements.
  auto box = [&](const ArrayRecord* a, const cudaPos& pos, const cudaPitchedPtr& ptr, uint64_t element) {
    ArrayBox b;
    b.x = a ? pos.x * ElementBytes(*a) : 0;
    b.y = a ? pos.y : 0;
    b.z = a ? pos.z : 0;
    b.width = p->extent.width * element, b.height = p->extent.height, b.depth = p->extent.depth;
    if (!a) {
      b.memory = static_cast<char*>(ptr.ptr) + (pos.z * ptr.ysize + pos.y) * ptr.pitch + pos.x;
      b.pitch = ptr.pitch;
      b.slice = ptr.pitch * ptr.ysize;
    }
    return b;
  };
  ArrayRecord src, dst;
  const bool src_array = p->srcArray != nullptr, dst_array = p->dstArray != nullptr;
  if ((src_array && !FindArray(p->srcArray, &src)) || (dst_array && !FindArray(p->dstArray, &dst))) {
    return Fail(cudaErrorInvalidResourceHandle);
  }
  if (src_array && dst_array) {
    if (ElementBytes(src) != ElementBytes(dst)) return Fail(cudaErrorInvalidValue);
    const uint64_t e = ElementBytes(src);
    return ArrayToArray(p->dstArray, p->srcArray, box(&dst, p->dstPos, p->dstPtr, e),
                        box(&src, p->srcPos, p->srcPtr, e), kind, stream, per_thread, async);
  }
  const ArrayRecord& a = src_array ? src : dst;
  const uint64_t e = ElementBytes(a);
  ArrayBox b = box(&a, src_array ? p->srcPos : p->dstPos, p->srcPtr, e);
  const ArrayBox memory = box(nullptr, src_array ? p->dstPos : p->srcPos, src_array ? p->dstPtr : p->srcPtr, e);
  b.memory = memory.memory, b.pitch = memory.pitch, b.slice = memory.slice;
  return CopyBox(a, b, /*to_array=*/dst_array, kind, stream, per_thread, async);
}

}  // namespace rcuda::client

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
    // A level of a mipmapped array goes with it (cudaFreeMipmappedArray).
    if (it->second->mipmap) return Fail(cudaErrorInvalidValue);
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
  // What rcuda does not carry: views, sRGB, seamless cube maps. (The mipmap
  // fields of a texture on anything but a mipmapped array sample nothing.)
  if (view || t.sRGB || t.seamlessCubemap) return Fail(cudaErrorNotSupported);
  if (resource->resType == cudaResourceTypeMipmappedArray) return CreateMipmapTexture(object, *resource, t);
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
  const TextureSampling sampling = SamplingOf(t);
  uint64_t value = 0;
  rcuda::Status s = session->TexObjectCreate(res_type, array, device, format, channels, width, height, pitch,
                                             sampling.address, t.filterMode, sampling.flags, sampling.border_rg,
                                             sampling.border_ba, &value);
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
cudaError_t DestroyObject(std::map<uint64_t, ObjectRecord> ArrayTables::*objects, uint64_t value, bool texture) {
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
bool FindObject(std::map<uint64_t, ObjectRecord> ArrayTables::*objects, uint64_t value, ObjectRecord* out) {
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
  return DestroyObject(&ArrayTables::textures, object, true);
}

RCUDA_EXPORT cudaError_t cudaDestroySurfaceObject(cudaSurfaceObject_t object) {
  if (object == 0) return cudaSuccess;
  return DestroyObject(&ArrayTables::surfaces, object, false);
}

RCUDA_EXPORT cudaError_t cudaGetTextureObjectResourceDesc(cudaResourceDesc* desc, cudaTextureObject_t object) {
  ObjectRecord o;
  if (!desc || !FindObject(&ArrayTables::textures, object, &o)) return Fail(cudaErrorInvalidValue);
  *desc = o.resource;
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaGetTextureObjectTextureDesc(cudaTextureDesc* desc, cudaTextureObject_t object) {
  ObjectRecord o;
  if (!desc || !FindObject(&ArrayTables::textures, object, &o)) return Fail(cudaErrorInvalidValue);
  *desc = o.texture;
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaGetSurfaceObjectResourceDesc(cudaResourceDesc* desc, cudaSurfaceObject_t object) {
  ObjectRecord o;
  if (!desc || !FindObject(&ArrayTables::surfaces, object, &o)) return Fail(cudaErrorInvalidValue);
  *desc = o.resource;
  return cudaSuccess;
}

}  // extern "C"
