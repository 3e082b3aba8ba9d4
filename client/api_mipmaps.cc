// Mipmapped CUDA arrays (docs/design.md, "Arrays and textures"). The
// mipmapped array lives on the worker; the program's cudaMipmappedArray_t is
// the address of the client's record of it (client/array_records.h). A
// level the program asks for becomes an array record like any other, marked
// as the mipmapped array's: copies, surfaces and textures take it, and it
// goes when its mipmapped array is freed.
#include <memory>
#include <mutex>

#include "client/api_common.h"
#include "client/array_records.h"
#include "protocol/array_format.h"

using namespace rcuda::client;

namespace {

// A copy of the record behind `mipmap`, or false for one this process does
// not hold.
bool FindMipmap(const void* mipmap, MipmapRecord* out) {
  std::lock_guard lock(Arrays().mu);
  auto it = Arrays().mipmaps.find(mipmap);
  if (it == Arrays().mipmaps.end()) return false;
  *out = *it->second;
  return true;
}

}  // namespace

namespace rcuda::client {

cudaError_t CreateMipmapTexture(cudaTextureObject_t* object, const cudaResourceDesc& resource,
                                const cudaTextureDesc& t) {
  MipmapRecord m;
  if (!FindMipmap(resource.res.mipmap.mipmap, &m)) return Fail(cudaErrorInvalidResourceHandle);
  const TextureSampling sampling = SamplingOf(t);
  uint64_t value = 0;
  rcuda::Status s = m.session->TexObjectCreateMipmapped(
      m.remote, sampling.address, t.filterMode, sampling.flags, sampling.border_rg, sampling.border_ba,
      t.mipmapFilterMode, static_cast<int64_t>(rcuda::FloatPairBits(t.mipmapLevelBias, 0)),
      static_cast<int64_t>(rcuda::FloatPairBits(t.minMipmapLevelClamp, t.maxMipmapLevelClamp)), t.maxAnisotropy, &value);
  if (!s.ok()) return Return(s);
  std::lock_guard lock(Arrays().mu);
  Arrays().textures[value] = ObjectRecord{m.session, resource, t};
  *object = value;
  return cudaSuccess;
}

}  // namespace rcuda::client

extern "C" {

RCUDA_EXPORT cudaError_t cudaMallocMipmappedArray(cudaMipmappedArray_t* mipmap, const cudaChannelFormatDesc* desc,
                                                  cudaExtent extent, unsigned int levels, unsigned int flags) {
  if (!mipmap || !desc) return Fail(cudaErrorInvalidValue);
  auto record = std::make_unique<MipmapRecord>();
  if (!FormatOf(*desc, &record->format, &record->channels)) return Fail(cudaErrorInvalidChannelDescriptor);
  const bool layered = (flags & cudaArrayLayered) != 0;
  record->levels = rcuda::MipmapLevelCount(static_cast<int64_t>(extent.width), static_cast<int64_t>(extent.height),
                                           static_cast<int64_t>(extent.depth), layered, levels);
  if (record->levels == 0) return Fail(cudaErrorInvalidValue);
  RCUDA_CURRENT_SESSION(session);
  record->session = session;
  record->desc = *desc;
  record->extent = extent;
  record->flags = flags;
  record->level_arrays.assign(static_cast<size_t>(record->levels), nullptr);
  rcuda::Status s = session->MipmappedArrayCreate(
      static_cast<int64_t>(extent.width), static_cast<int64_t>(extent.height), static_cast<int64_t>(extent.depth),
      record->format, record->channels, flags, record->levels, &record->remote);
  if (!s.ok()) return Return(s);
  std::lock_guard lock(Arrays().mu);
  *mipmap = reinterpret_cast<cudaMipmappedArray_t>(record.get());
  Arrays().mipmaps[record.get()] = std::move(record);
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaGetMipmappedArrayLevel(cudaArray_t* level_array, cudaMipmappedArray_const_t mipmap,
                                                    unsigned int level) {
  if (!level_array) return Fail(cudaErrorInvalidValue);
  MipmapRecord m;
  if (!FindMipmap(mipmap, &m)) return Fail(cudaErrorInvalidResourceHandle);
  if (level >= m.levels) return Fail(cudaErrorInvalidValue);
  if (m.level_arrays[level]) {
    *level_array = static_cast<cudaArray_t>(const_cast<void*>(m.level_arrays[level]));
    return cudaSuccess;
  }
  uint64_t remote = 0;
  rcuda::Status s = m.session->MipmappedArrayGetLevel(m.remote, level, &remote);
  if (!s.ok()) return Return(s);
  auto record = std::make_unique<ArrayRecord>();
  record->session = m.session;
  record->remote = remote;
  record->desc = m.desc;
  int64_t w = static_cast<int64_t>(m.extent.width), h = static_cast<int64_t>(m.extent.height),
          d = static_cast<int64_t>(m.extent.depth);
  rcuda::MipmapLevelExtent(level, (m.flags & cudaArrayLayered) != 0, &w, &h, &d);
  record->extent = cudaExtent{static_cast<size_t>(w), static_cast<size_t>(h), static_cast<size_t>(d)};
  record->flags = m.flags;
  record->row_bytes = uint64_t(w) * rcuda::ArrayElementBytes(m.format, m.channels);
  record->rows = h ? uint64_t(h) : 1;
  record->layers = d ? uint64_t(d) : 1;
  record->mipmap = mipmap;
  std::lock_guard lock(Arrays().mu);
  auto it = Arrays().mipmaps.find(mipmap);
  if (it == Arrays().mipmaps.end()) return Fail(cudaErrorInvalidResourceHandle);  // freed meanwhile
  const void*& given = it->second->level_arrays[level];
  if (!given) {  // (another thread may have asked for the same level meanwhile)
    given = record.get();
    Arrays().arrays[record.get()] = std::move(record);
  }
  *level_array = static_cast<cudaArray_t>(const_cast<void*>(given));
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaFreeMipmappedArray(cudaMipmappedArray_t mipmap) {
  if (!mipmap) return cudaSuccess;
  std::unique_ptr<MipmapRecord> record;
  {
    std::lock_guard lock(Arrays().mu);
    auto it = Arrays().mipmaps.find(mipmap);
    if (it == Arrays().mipmaps.end()) return Fail(cudaErrorInvalidResourceHandle);
    record = std::move(it->second);
    Arrays().mipmaps.erase(it);
    for (const void* level : record->level_arrays)
      if (level) Arrays().arrays.erase(level);
  }
  return Return(record->session->MipmappedArrayDestroy(record->remote));
}

}  // extern "C"
