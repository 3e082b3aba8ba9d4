// Mipmapped CUDA arrays on the driver (cuMipmappedArrayCreate, GetLevel,
// Destroy) and texture objects on them. A level the session asks for becomes
// an entry of arrays_ that names its mipmapped array: copies and surfaces
// take it as any array, ArrayDestroy refuses it, and destroying the
// mipmapped array forgets it.
#include <string>

#include "protocol/array_format.h"
#include "server/cuda_executor.h"

namespace rcuda {
namespace {

constexpr unsigned kMipmapFlags = CUDA_ARRAY3D_LAYERED | CUDA_ARRAY3D_SURFACE_LDST;

Status Invalid(const std::string& why) { return Status::InvalidValue(why); }

}  // namespace

Status CudaExecutor::MipmapCall(CallOp op, const CallArgs& arg, std::vector<int64_t>* values) {
  if (op == CallOp::kMipmappedArrayCreate) {
    // width, height, depth, format, channels, flags, levels (operations.def)
    const int64_t width = arg(0), height = arg(1), depth = arg(2), format = arg(3), channels = arg(4), flags = arg(5);
    if ((flags & ~int64_t{kMipmapFlags}) != 0) return Invalid("mipmapped array flags " + std::to_string(flags));
    const bool layered = (flags & CUDA_ARRAY3D_LAYERED) != 0;
    const int64_t levels = MipmapLevelCount(width, height, depth, layered, arg(6));
    uint64_t bytes = 0;
    if (levels == 0 || !MipmapBytes(width, height, depth, format, channels, layered, levels, &bytes)) {
      return Invalid("a mipmapped array of an impossible size or an unsupported element format");
    }
    CUDA_ARRAY3D_DESCRIPTOR d{};
    d.Width = static_cast<size_t>(width);
    d.Height = static_cast<size_t>(height);
    d.Depth = static_cast<size_t>(depth);
    d.Format = static_cast<CUarray_format>(format);
    d.NumChannels = static_cast<unsigned>(channels);
    d.Flags = static_cast<unsigned>(flags);
    CUmipmappedArray mipmap = nullptr;
    RCUDA_RETURN_IF_ERROR(Check(drv_.cuMipmappedArrayCreate(&mipmap, &d, static_cast<unsigned>(levels)),
                                "cuMipmappedArrayCreate"));
    const uint64_t handle = reinterpret_cast<uint64_t>(mipmap);
    mipmaps_[handle] = MipmapEntry{mipmap, width, height, depth, format, channels, levels, layered, {}};
    values->push_back(static_cast<int64_t>(handle));
    return Status::Ok();
  }
  auto it = mipmaps_.find(static_cast<uint64_t>(arg(0)));
  if (it == mipmaps_.end()) return Status::Cuda(kInvalidResourceHandle, "unknown mipmapped CUDA array");
  MipmapEntry& m = it->second;
  switch (op) {
    case CallOp::kMipmappedArrayGetLevel: {
      const int64_t level = arg(1);
      if (level < 0 || level >= m.levels) {
        return Invalid("level " + std::to_string(level) + " of a mipmapped array of " + std::to_string(m.levels));
      }
      CUarray array = nullptr;
      RCUDA_RETURN_IF_ERROR(Check(drv_.cuMipmappedArrayGetLevel(&array, m.mipmap, static_cast<unsigned>(level)),
                                  "cuMipmappedArrayGetLevel"));
      int64_t w = m.width, h = m.height, d = m.depth;
      MipmapLevelExtent(level, m.layered, &w, &h, &d);
      const uint64_t handle = reinterpret_cast<uint64_t>(array);
      arrays_[handle] = ArrayEntry{array, uint64_t(w) * ArrayElementBytes(m.format, m.channels),
                                   h == 0 ? 1u : uint64_t(h), d == 0 ? 1u : uint64_t(d), it->first};
      m.level_handles.insert(handle);
      values->push_back(static_cast<int64_t>(handle));
      return Status::Ok();
    }
    case CallOp::kMipmappedArrayDestroy: {
      RCUDA_RETURN_IF_ERROR(Check(drv_.cuMipmappedArrayDestroy(m.mipmap), "cuMipmappedArrayDestroy"));
      for (uint64_t level : m.level_handles) arrays_.erase(level);
      mipmaps_.erase(it);
      return Status::Ok();
    }
    case CallOp::kTexObjectCreateMipmapped: {
      // mipmap, address, filter, flags, border_rg, border_ba, mipmap_filter,
      // level_bias, level_clamp, max_anisotropy (operations.def)
      CUDA_RESOURCE_DESC r{};
      r.resType = CU_RESOURCE_TYPE_MIPMAPPED_ARRAY;
      r.res.mipmap.hMipmappedArray = m.mipmap;
      CUDA_TEXTURE_DESC t{};
      const int64_t mipmap_filter = arg(6), anisotropy = arg(9);
      if (mipmap_filter != CU_TR_FILTER_MODE_POINT && mipmap_filter != CU_TR_FILTER_MODE_LINEAR) {
        return Invalid("mipmap filter mode " + std::to_string(mipmap_filter));
      }
      if (anisotropy < 0 || anisotropy > 16) return Invalid("texture anisotropy " + std::to_string(anisotropy));
      t.mipmapFilterMode = static_cast<CUfilter_mode>(mipmap_filter);
      t.mipmapLevelBias = FloatOfBits(static_cast<uint32_t>(arg(7)));
      t.minMipmapLevelClamp = FloatOfBits(static_cast<uint32_t>(arg(8)));
      t.maxMipmapLevelClamp = FloatOfBits(static_cast<uint32_t>(static_cast<uint64_t>(arg(8)) >> 32));
      t.maxAnisotropy = static_cast<unsigned>(anisotropy);
      return CreateTexture(r, &t, arg(1), arg(2), arg(3), arg(4), arg(5), values);
    }
    default:
      return Status::NotSupported("not a mipmapped array call");
  }
}

}  // namespace rcuda
