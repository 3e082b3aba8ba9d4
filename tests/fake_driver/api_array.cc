// TEST EQUIPMENT: the fake CUDA driver's arrays, texture and surface
// objects. An array is device memory (host pages) of its own with a packed
// layout (device_memory.h copies to and from it); a texture or surface object
// is a record of its resource and sampling, which host kernels read through
// rcuda_test_launch::sampled_object (host_kernel_api.h) to model tex2D,
// surf2Dread and surf2Dwrite. Nothing here is a GPU's texture unit.
#include <cstring>

#include "protocol/array_format.h"
#include "tests/fake_driver/device_memory.h"
#include "tests/fake_driver/entry_points.h"
#include "tests/fake_driver/launch.h"
#include "tests/fake_driver/stream_engine.h"

namespace fake {
namespace {

constexpr unsigned kArrayFlags = CUDA_ARRAY3D_LAYERED | CUDA_ARRAY3D_SURFACE_LDST;
constexpr unsigned kTextureFlags = CU_TRSF_READ_AS_INTEGER | CU_TRSF_NORMALIZED_COORDINATES |
                                   CU_TRSF_DISABLE_TRILINEAR_OPTIMIZATION;

// The resource of a texture or surface object. Lock held.
CUresult ResolveResource(const CUDA_RESOURCE_DESC& r, SampledObject* o) {
  if (r.flags != 0) return CUDA_ERROR_INVALID_VALUE;
  switch (r.resType) {
    case CU_RESOURCE_TYPE_ARRAY: {
      const Array* a = LiveArray(r.res.array.hArray);
      if (!a) return CUDA_ERROR_INVALID_HANDLE;
      o->array = a;
      o->base = a->base;
      o->width = a->width;
      o->height = a->height;
      o->pitch = a->pitch();
      o->element_bytes = a->element_bytes;
      o->format = a->format;
      o->channels = a->channels;
      return CUDA_SUCCESS;
    }
    case CU_RESOURCE_TYPE_MIPMAPPED_ARRAY: {
      auto it = D().mipmaps.find(r.res.mipmap.hMipmappedArray);
      if (it == D().mipmaps.end()) return CUDA_ERROR_INVALID_HANDLE;
      CUDA_RESOURCE_DESC level0{};
      level0.resType = CU_RESOURCE_TYPE_ARRAY;
      level0.res.array.hArray = it->second->levels.at(0);
      CUresult e = ResolveResource(level0, o);
      o->mipmap = it->second.get();
      return e;
    }
    case CU_RESOURCE_TYPE_LINEAR:
    case CU_RESOURCE_TYPE_PITCH2D: {
      const bool linear = r.resType == CU_RESOURCE_TYPE_LINEAR;
      const auto format = linear ? r.res.linear.format : r.res.pitch2D.format;
      const unsigned channels = linear ? r.res.linear.numChannels : r.res.pitch2D.numChannels;
      o->element_bytes = rcuda::ArrayElementBytes(format, channels);
      if (o->element_bytes == 0) return CUDA_ERROR_INVALID_VALUE;
      o->format = format;
      o->channels = channels;
      o->base = linear ? r.res.linear.devPtr : r.res.pitch2D.devPtr;
      o->width = linear ? r.res.linear.sizeInBytes / o->element_bytes : r.res.pitch2D.width;
      o->height = linear ? 1 : r.res.pitch2D.height;
      o->pitch = linear ? r.res.linear.sizeInBytes : r.res.pitch2D.pitchInBytes;
      unsigned __int128 extent = (unsigned __int128)(o->height - 1) * o->pitch + o->width * o->element_bytes;
      if (o->width == 0 || o->height == 0 || o->pitch < o->width * o->element_bytes || extent > UINT64_MAX ||
          !D().device_memory.Contains(o->base, static_cast<uint64_t>(extent))) {
        return CUDA_ERROR_INVALID_VALUE;
      }
      return CUDA_SUCCESS;
    }
    default:
      Log("a texture or surface resource of type %d is not modeled by the fake driver", static_cast<int>(r.resType));
      return CUDA_ERROR_NOT_SUPPORTED;
  }
}

}  // namespace

CUresult cuArray3DCreate(CUarray* handle, const CUDA_ARRAY3D_DESCRIPTOR* d) {
  std::lock_guard lock(D().mu);
  Context* ctx;
  CUresult r = UsableContext(&ctx);
  if (r != CUDA_SUCCESS) return r;
  if (!handle || !d || (d->Flags & ~kArrayFlags) != 0) return CUDA_ERROR_INVALID_VALUE;
  if ((d->Flags & CUDA_ARRAY3D_LAYERED) && d->Depth == 0) return CUDA_ERROR_INVALID_VALUE;
  if (d->Depth != 0 && d->Height == 0 && !(d->Flags & CUDA_ARRAY3D_LAYERED)) return CUDA_ERROR_INVALID_VALUE;
  uint64_t bytes = 0;
  if (!rcuda::ArrayBytes(static_cast<int64_t>(d->Width), static_cast<int64_t>(d->Height),
                         static_cast<int64_t>(d->Depth), d->Format, d->NumChannels, &bytes)) {
    return CUDA_ERROR_INVALID_VALUE;
  }
  auto a = std::make_unique<Array>();
  a->width = d->Width;
  a->height = d->Height ? d->Height : 1;
  a->depth = d->Depth ? d->Depth : 1;
  a->element_bytes = rcuda::ArrayElementBytes(d->Format, d->NumChannels);
  a->format = d->Format;
  a->channels = d->NumChannels;
  a->flags = d->Flags;
  a->bytes = bytes;
  Device* dev = D().devices[ctx->device].get();
  if ((r = MapDeviceMemory(dev, bytes, &a->base)) != CUDA_SUCCESS) return r;
  Allocation alloc;
  alloc.base = a->base;
  alloc.size = bytes;
  alloc.kind = Allocation::Kind::kArray;
  alloc.device = ctx->device;
  D().device_memory.Add(alloc);
  *handle = reinterpret_cast<CUarray>(a.get());
  D().arrays[a.get()] = std::move(a);
  return CUDA_SUCCESS;
}

// Like cuMemFree, once the context's work is done (an array is freed as
// device memory is); objects still naming it find it gone.
CUresult cuArrayDestroy(CUarray handle) {
  std::unique_lock lock(D().mu);
  Context* ctx;
  CUresult r = UsableContext(&ctx);
  if (r != CUDA_SUCCESS) return r;
  auto it = D().arrays.find(handle);
  if (it == D().arrays.end()) return CUDA_ERROR_INVALID_HANDLE;
  if (it->second->mipmap) return CUDA_ERROR_INVALID_VALUE;  // a level goes with its mipmapped array
  const uint64_t base = it->second->base;
  D().arrays.erase(it);
  for (auto* objects : {&D().textures, &D().surfaces})
    for (auto& [id, o] : *objects)
      if (o.array == reinterpret_cast<const Array*>(handle)) o.array = nullptr, o.base = 0;
  r = WaitAll(lock, ctx, ContextTargets(ctx));
  if (Allocation* a = D().device_memory.AtBase(base); a && a->kind == Allocation::Kind::kArray) ReleaseAllocation(*a);
  return r;
}

CUresult cuTexObjectCreate(CUtexObject* object, const CUDA_RESOURCE_DESC* resource, const CUDA_TEXTURE_DESC* texture,
                           const CUDA_RESOURCE_VIEW_DESC* view) {
  std::lock_guard lock(D().mu);
  Context* ctx;
  CUresult r = UsableContext(&ctx);
  if (r != CUDA_SUCCESS) return r;
  if (!object || !resource || !texture) return CUDA_ERROR_INVALID_VALUE;
  if (view) {
    Log("texture resource views are not modeled by the fake driver");
    return CUDA_ERROR_NOT_SUPPORTED;
  }
  SampledObject o;
  if ((r = ResolveResource(*resource, &o)) != CUDA_SUCCESS) return r;
  for (int i = 0; i < 3; ++i) {
    if (texture->addressMode[i] > CU_TR_ADDRESS_MODE_BORDER) return CUDA_ERROR_INVALID_VALUE;
    o.address[i] = texture->addressMode[i];
  }
  if (texture->filterMode > CU_TR_FILTER_MODE_LINEAR || (texture->flags & ~kTextureFlags) != 0) {
    return CUDA_ERROR_INVALID_VALUE;
  }
  o.filter = texture->filterMode;
  o.flags = texture->flags;
  if (texture->mipmapFilterMode > CU_TR_FILTER_MODE_LINEAR) return CUDA_ERROR_INVALID_VALUE;
  o.mipmap_filter = texture->mipmapFilterMode;
  o.level_bias = texture->mipmapLevelBias;
  o.min_level_clamp = texture->minMipmapLevelClamp;
  o.max_level_clamp = texture->maxMipmapLevelClamp;
  std::memcpy(o.border, texture->borderColor, sizeof o.border);
  const uint64_t id = D().next_object++;
  D().textures[id] = o;
  *object = id;
  return CUDA_SUCCESS;
}

CUresult cuTexObjectDestroy(CUtexObject object) {
  std::lock_guard lock(D().mu);
  return D().textures.erase(object) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

CUresult cuSurfObjectCreate(CUsurfObject* object, const CUDA_RESOURCE_DESC* resource) {
  std::lock_guard lock(D().mu);
  Context* ctx;
  CUresult r = UsableContext(&ctx);
  if (r != CUDA_SUCCESS) return r;
  if (!object || !resource) return CUDA_ERROR_INVALID_VALUE;
  if (resource->resType != CU_RESOURCE_TYPE_ARRAY) return CUDA_ERROR_INVALID_VALUE;
  SampledObject o;
  if ((r = ResolveResource(*resource, &o)) != CUDA_SUCCESS) return r;
  if (!(o.array->flags & CUDA_ARRAY3D_SURFACE_LDST)) return CUDA_ERROR_INVALID_VALUE;
  const uint64_t id = D().next_object++;
  D().surfaces[id] = o;
  *object = id;
  return CUDA_SUCCESS;
}

CUresult cuSurfObjectDestroy(CUsurfObject object) {
  std::lock_guard lock(D().mu);
  return D().surfaces.erase(object) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

namespace {

// What a host kernel sees of `o` sampling `array` (its level 0, or another
// level of its mipmapped array). Lock held.
int Sampled(const SampledObject& o, const Array* level, rcuda_test_sampled_object* out) {
  uint64_t base = o.base, width = o.width, height = o.height, pitch = o.pitch;
  if (level) base = level->base, width = level->width, height = level->height, pitch = level->pitch();
  const uint64_t extent = (height - 1) * pitch + width * o.element_bytes;
  if (base == 0 || !D().device_memory.Contains(base, extent)) return CUDA_ERROR_ILLEGAL_ADDRESS;
  *out = rcuda_test_sampled_object{};
  out->base = reinterpret_cast<uint8_t*>(base);
  out->width = width;
  out->height = height;
  out->pitch = pitch;
  out->element_bytes = o.element_bytes;
  out->format = static_cast<uint32_t>(o.format);
  out->channels = o.channels;
  for (int i = 0; i < 3; ++i) out->address[i] = static_cast<uint32_t>(o.address[i]);
  out->filter = static_cast<uint32_t>(o.filter);
  out->flags = o.flags;
  std::memcpy(out->border, o.border, sizeof out->border);
  out->levels = o.mipmap ? static_cast<uint32_t>(o.mipmap->levels.size()) : 1;
  out->mipmap_filter = static_cast<uint32_t>(o.mipmap_filter);
  out->level_bias = o.level_bias;
  out->min_level_clamp = o.min_level_clamp;
  out->max_level_clamp = o.max_level_clamp;
  return 0;
}

}  // namespace

// For launch.cc: the object a host kernel names, while its memory lives.
int SampledObjectOf(uint64_t id, int surface, rcuda_test_sampled_object* out) {
  std::lock_guard lock(D().mu);
  const auto& objects = surface ? D().surfaces : D().textures;
  auto it = objects.find(id);
  if (it == objects.end()) return CUDA_ERROR_INVALID_HANDLE;
  return Sampled(it->second, nullptr, out);
}

int SampledLevelOf(uint64_t id, uint32_t level, rcuda_test_sampled_object* out) {
  std::lock_guard lock(D().mu);
  auto it = D().textures.find(id);
  if (it == D().textures.end()) return CUDA_ERROR_INVALID_HANDLE;
  const SampledObject& o = it->second;
  if (!o.mipmap) return level == 0 ? Sampled(o, nullptr, out) : 1;
  if (level >= o.mipmap->levels.size()) return 1;
  const Array* a = o.array ? LiveArray(o.mipmap->levels[level]) : nullptr;
  if (!a) return CUDA_ERROR_ILLEGAL_ADDRESS;
  return Sampled(o, a, out);
}

}  // namespace fake
