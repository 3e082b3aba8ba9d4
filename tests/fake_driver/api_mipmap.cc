// TEST EQUIPMENT: the fake CUDA driver's mipmapped arrays. Each level is an
// array of api_array.cc (made by cuArray3DCreate, marked as the mipmapped
// array's so that cuArrayDestroy refuses it); a texture object on a
// mipmapped array samples its levels through sampled_level
// (host_kernel_api.h). Nothing here is a GPU's texture unit.
#include "protocol/array_format.h"
#include "tests/fake_driver/device_memory.h"
#include "tests/fake_driver/entry_points.h"
#include "tests/fake_driver/stream_engine.h"

namespace fake {

CUresult cuMipmappedArrayCreate(CUmipmappedArray* handle, const CUDA_ARRAY3D_DESCRIPTOR* d, unsigned levels) {
  if (!handle || !d) return CUDA_ERROR_INVALID_VALUE;
  const bool layered = (d->Flags & CUDA_ARRAY3D_LAYERED) != 0;
  const int64_t count = rcuda::MipmapLevelCount(static_cast<int64_t>(d->Width), static_cast<int64_t>(d->Height),
                                                static_cast<int64_t>(d->Depth), layered, levels);
  if (count == 0) return CUDA_ERROR_INVALID_VALUE;
  auto m = std::make_unique<MipmappedArray>();
  for (int64_t l = 0; l < count; ++l) {
    int64_t w = static_cast<int64_t>(d->Width), h = static_cast<int64_t>(d->Height), z = static_cast<int64_t>(d->Depth);
    rcuda::MipmapLevelExtent(l, layered, &w, &h, &z);
    CUDA_ARRAY3D_DESCRIPTOR level = *d;
    level.Width = static_cast<size_t>(w), level.Height = static_cast<size_t>(h), level.Depth = static_cast<size_t>(z);
    CUarray a = nullptr;
    CUresult r = fake::cuArray3DCreate(&a, &level);
    if (r != CUDA_SUCCESS) {
      for (CUarray made : m->levels) fake::cuArrayDestroy(made);
      return r;
    }
    m->levels.push_back(a);
  }
  std::lock_guard lock(D().mu);
  for (CUarray a : m->levels) D().arrays.at(a)->mipmap = m.get();
  *handle = reinterpret_cast<CUmipmappedArray>(m.get());
  D().mipmaps[m.get()] = std::move(m);
  return CUDA_SUCCESS;
}

CUresult cuMipmappedArrayGetLevel(CUarray* level, CUmipmappedArray handle, unsigned index) {
  std::lock_guard lock(D().mu);
  Context* ctx;
  CUresult r = UsableContext(&ctx);
  if (r != CUDA_SUCCESS) return r;
  auto it = D().mipmaps.find(handle);
  if (it == D().mipmaps.end()) return CUDA_ERROR_INVALID_HANDLE;
  if (!level || index >= it->second->levels.size()) return CUDA_ERROR_INVALID_VALUE;
  *level = it->second->levels[index];
  return CUDA_SUCCESS;
}

// As cuArrayDestroy does for each level: once the context's work is done;
// objects still naming a level find it gone.
CUresult cuMipmappedArrayDestroy(CUmipmappedArray handle) {
  std::unique_lock lock(D().mu);
  Context* ctx;
  CUresult r = UsableContext(&ctx);
  if (r != CUDA_SUCCESS) return r;
  auto it = D().mipmaps.find(handle);
  if (it == D().mipmaps.end()) return CUDA_ERROR_INVALID_HANDLE;
  std::vector<uint64_t> bases;
  for (CUarray a : it->second->levels) {
    auto level = D().arrays.find(a);
    bases.push_back(level->second->base);
    for (auto* objects : {&D().textures, &D().surfaces})
      for (auto& [id, o] : *objects)
        if (o.array == level->second.get()) o.array = nullptr, o.mipmap = nullptr, o.base = 0;
    D().arrays.erase(level);
  }
  D().mipmaps.erase(it);
  r = WaitAll(lock, ctx, ContextTargets(ctx));
  for (uint64_t base : bases)
    if (Allocation* a = D().device_memory.AtBase(base); a && a->kind == Allocation::Kind::kArray) ReleaseAllocation(*a);
  return r;
}

}  // namespace fake
