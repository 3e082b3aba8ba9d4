// CUDA arrays, texture and surface objects on the driver (cuArray3DCreate,
// cuMemcpy3DAsync with CU_MEMORYTYPE_ARRAY, cuTexObjectCreate,
// cuSurfObjectCreate). The session worker has checked every handle, device
// range and size; the executor checks each handle again against what it
// made and each copy against its array's shape, so that no driver call sees
// a rectangle outside the array.
#include <algorithm>
#include <cstring>
#include <vector>

#include "protocol/array_format.h"
#include "server/cuda_executor.h"

namespace rcuda {
namespace {

constexpr unsigned kArrayFlags = CUDA_ARRAY3D_LAYERED | CUDA_ARRAY3D_SURFACE_LDST;
constexpr unsigned kTextureFlags = CU_TRSF_READ_AS_INTEGER | CU_TRSF_NORMALIZED_COORDINATES |
                                   CU_TRSF_DISABLE_TRILINEAR_OPTIMIZATION;

Status Invalid(const std::string& why) { return Status::InvalidValue(why); }

}  // namespace

Status CudaExecutor::ArrayOf(uint64_t handle, const ArrayEntry** entry) {
  auto it = arrays_.find(handle);
  if (it == arrays_.end()) return Status::Cuda(kInvalidResourceHandle, "unknown CUDA array");
  *entry = &it->second;
  return Status::Ok();
}

Status CudaExecutor::ArrayRectangle(uint64_t handle, uint64_t x, uint64_t y, uint64_t width, uint64_t height,
                                    const ArrayEntry** entry) {
  const ArrayEntry* a = nullptr;
  RCUDA_RETURN_IF_ERROR(ArrayOf(handle, &a));
  // Rows count across the layers: height x depth of them (no overflow: the
  // array's size was checked when it was made).
  const uint64_t rows = a->height * a->depth;
  if (x > a->row_bytes || width > a->row_bytes - x || y > rows || height > rows - y) {
    return Invalid("a copy of " + std::to_string(width) + " bytes x " + std::to_string(height) + " rows at (" +
                   std::to_string(x) + ", " + std::to_string(y) + ") outside a CUDA array of " +
                   std::to_string(a->row_bytes) + " bytes x " + std::to_string(rows) + " rows");
  }
  *entry = a;
  return Status::Ok();
}

Status CudaExecutor::ArrayCall(CallOp op, const CallArgs& arg, std::vector<int64_t>* values) {
  if (op == CallOp::kArrayDestroy) {
    const ArrayEntry* a = nullptr;
    RCUDA_RETURN_IF_ERROR(ArrayOf(static_cast<uint64_t>(arg(0)), &a));
    if (a->mipmap != 0) return Invalid("a level of a mipmapped array is freed with its mipmapped array");
    RCUDA_RETURN_IF_ERROR(Check(drv_.cuArrayDestroy(a->array), "cuArrayDestroy"));
    arrays_.erase(static_cast<uint64_t>(arg(0)));
    return Status::Ok();
  }
  const int64_t width = arg(0), height = arg(1), depth = arg(2), format = arg(3), channels = arg(4), flags = arg(5);
  uint64_t bytes = 0;
  if (!ArrayBytes(width, height, depth, format, channels, &bytes)) {
    return Invalid("a CUDA array of an impossible size or an unsupported element format");
  }
  if ((flags & ~int64_t{kArrayFlags}) != 0) return Invalid("CUDA array flags " + std::to_string(flags));
  CUDA_ARRAY3D_DESCRIPTOR d{};
  d.Width = static_cast<size_t>(width);
  d.Height = static_cast<size_t>(height);
  d.Depth = static_cast<size_t>(depth);
  d.Format = static_cast<CUarray_format>(format);
  d.NumChannels = static_cast<unsigned>(channels);
  d.Flags = static_cast<unsigned>(flags);
  CUarray array = nullptr;
  RCUDA_RETURN_IF_ERROR(Check(drv_.cuArray3DCreate(&array, &d), "cuArray3DCreate"));
  const uint64_t handle = reinterpret_cast<uint64_t>(array);
  arrays_[handle] = ArrayEntry{array, uint64_t(width) * ArrayElementBytes(format, channels),
                               height == 0 ? 1u : uint64_t(height), depth == 0 ? 1u : uint64_t(depth)};
  values->push_back(static_cast<int64_t>(handle));
  return Status::Ok();
}

Status CudaExecutor::TextureCall(CallOp op, const CallArgs& arg, std::vector<int64_t>* values) {
  switch (op) {
    case CallOp::kTexObjectDestroy:
    case CallOp::kSurfObjectDestroy: {
      const bool texture = op == CallOp::kTexObjectDestroy;
      std::set<uint64_t>& objects = texture ? textures_ : surfaces_;
      const uint64_t object = static_cast<uint64_t>(arg(0));
      if (!objects.count(object)) return Status::Cuda(kInvalidResourceHandle, "unknown texture or surface object");
      RCUDA_RETURN_IF_ERROR(texture ? Check(drv_.cuTexObjectDestroy(object), "cuTexObjectDestroy")
                                    : Check(drv_.cuSurfObjectDestroy(object), "cuSurfObjectDestroy"));
      objects.erase(object);
      return Status::Ok();
    }
    case CallOp::kSurfObjectCreate: {
      const ArrayEntry* a = nullptr;
      RCUDA_RETURN_IF_ERROR(ArrayOf(static_cast<uint64_t>(arg(0)), &a));
      CUDA_RESOURCE_DESC r{};
      r.resType = CU_RESOURCE_TYPE_ARRAY;
      r.res.array.hArray = a->array;
      CUsurfObject surface = 0;
      RCUDA_RETURN_IF_ERROR(Check(drv_.cuSurfObjectCreate(&surface, &r), "cuSurfObjectCreate"));
      surfaces_.insert(surface);
      values->push_back(static_cast<int64_t>(surface));
      return Status::Ok();
    }
    case CallOp::kTexObjectCreate:
      break;
    default:
      return Status::NotSupported("not a texture call");
  }
  // res_type, array, device, format, channels, width, height, pitch, address,
  // filter, flags, border_rg, border_ba (operations.def).
  CUDA_RESOURCE_DESC r{};
  const int64_t res_type = arg(0);
  if (res_type == 0) {
    const ArrayEntry* a = nullptr;
    RCUDA_RETURN_IF_ERROR(ArrayOf(static_cast<uint64_t>(arg(1)), &a));
    r.resType = CU_RESOURCE_TYPE_ARRAY;
    r.res.array.hArray = a->array;
  } else if (res_type == 1 || res_type == 2) {
    if (ArrayElementBytes(arg(3), arg(4)) == 0) return Invalid("a texture of an unsupported element format");
    if (res_type == 1) {
      r.resType = CU_RESOURCE_TYPE_LINEAR;
      r.res.linear.devPtr = static_cast<CUdeviceptr>(arg(2));
      r.res.linear.format = static_cast<CUarray_format>(arg(3));
      r.res.linear.numChannels = static_cast<unsigned>(arg(4));
      r.res.linear.sizeInBytes = static_cast<size_t>(arg(5));
    } else {
      r.resType = CU_RESOURCE_TYPE_PITCH2D;
      r.res.pitch2D.devPtr = static_cast<CUdeviceptr>(arg(2));
      r.res.pitch2D.format = static_cast<CUarray_format>(arg(3));
      r.res.pitch2D.numChannels = static_cast<unsigned>(arg(4));
      r.res.pitch2D.width = static_cast<size_t>(arg(5));
      r.res.pitch2D.height = static_cast<size_t>(arg(6));
      r.res.pitch2D.pitchInBytes = static_cast<size_t>(arg(7));
    }
  } else {
    return Invalid("texture resource type " + std::to_string(res_type));
  }
  CUDA_TEXTURE_DESC t{};
  return CreateTexture(r, &t, arg(8), arg(9), arg(10), arg(11), arg(12), values);
}

Status CudaExecutor::CreateTexture(const CUDA_RESOURCE_DESC& resource, CUDA_TEXTURE_DESC* t, int64_t address,
                                   int64_t filter, int64_t flags, int64_t border_rg, int64_t border_ba,
                                   std::vector<int64_t>* values) {
  for (int i = 0; i < 3; ++i) {
    int64_t mode = (address >> (8 * i)) & 0xff;
    if (mode > CU_TR_ADDRESS_MODE_BORDER) return Invalid("texture address mode " + std::to_string(mode));
    t->addressMode[i] = static_cast<CUaddress_mode>(mode);
  }
  if ((address >> 24) != 0) return Invalid("texture address modes " + std::to_string(address));
  if (filter != CU_TR_FILTER_MODE_POINT && filter != CU_TR_FILTER_MODE_LINEAR) {
    return Invalid("texture filter mode " + std::to_string(filter));
  }
  t->filterMode = static_cast<CUfilter_mode>(filter);
  if ((flags & ~int64_t{kTextureFlags}) != 0) return Invalid("texture flags " + std::to_string(flags));
  t->flags = static_cast<unsigned>(flags);
  const uint64_t rg = static_cast<uint64_t>(border_rg), ba = static_cast<uint64_t>(border_ba);
  t->borderColor[0] = FloatOfBits(static_cast<uint32_t>(rg));
  t->borderColor[1] = FloatOfBits(static_cast<uint32_t>(rg >> 32));
  t->borderColor[2] = FloatOfBits(static_cast<uint32_t>(ba));
  t->borderColor[3] = FloatOfBits(static_cast<uint32_t>(ba >> 32));
  CUtexObject texture = 0;
  RCUDA_RETURN_IF_ERROR(Check(drv_.cuTexObjectCreate(&texture, &resource, t, nullptr), "cuTexObjectCreate"));
  textures_.insert(texture);
  values->push_back(static_cast<int64_t>(texture));
  return Status::Ok();
}

namespace {

// The rows [y, y + height) of an array's rows across its layers (row r is
// row r % rows_per_layer of layer r / rows_per_layer), cut into pieces of at
// most `band` rows that do not cross a layer: fn(row in layer, layer, rows,
// rows done before).
template <class Fn>
Status ForEachPiece(uint64_t rows_per_layer, uint64_t y, uint64_t height, uint64_t band, const Fn& fn) {
  for (uint64_t done = 0; done < height;) {
    const uint64_t row = (y + done) % rows_per_layer, layer = (y + done) / rows_per_layer;
    const uint64_t n = std::min({band, height - done, rows_per_layer - row});
    RCUDA_RETURN_IF_ERROR(fn(row, layer, n, done));
    done += n;
  }
  return Status::Ok();
}

}  // namespace

Status CudaExecutor::ArrayCopyHost(uint64_t handle, uint64_t x, uint64_t y, uint64_t width, uint64_t height,
                                   uint64_t stream, bool to_array, const ChunkReader* read, const ChunkWriter* write) {
  CUstream s = nullptr;
  const ArrayEntry* a = nullptr;
  RCUDA_RETURN_IF_ERROR(StreamOf(stream, &s));
  RCUDA_RETURN_IF_ERROR(ArrayRectangle(handle, x, y, width, height, &a));
  if (width == 0 || height == 0) return Status::Ok();
  // A band of rows at a time, so that a large array costs the worker's host
  // no more than a staging chunk (or one row).
  const uint64_t band = std::max<uint64_t>(1, kStagingChunk / width);
  std::vector<uint8_t> rows(std::min(band, height) * width);
  return ForEachPiece(a->height, y, height, band, [&](uint64_t row, uint64_t layer, uint64_t n, uint64_t) {
    if (to_array) RCUDA_RETURN_IF_ERROR((*read)(rows.data(), n * width));
    CUDA_MEMCPY3D m{};
    CUmemorytype& host_type = to_array ? m.srcMemoryType : m.dstMemoryType;
    host_type = CU_MEMORYTYPE_HOST;
    (to_array ? m.dstMemoryType : m.srcMemoryType) = CU_MEMORYTYPE_ARRAY;
    if (to_array) {
      m.srcHost = rows.data(), m.srcPitch = width, m.srcHeight = n;
      m.dstArray = a->array, m.dstXInBytes = x, m.dstY = row, m.dstZ = layer;
    } else {
      m.dstHost = rows.data(), m.dstPitch = width, m.dstHeight = n;
      m.srcArray = a->array, m.srcXInBytes = x, m.srcY = row, m.srcZ = layer;
    }
    m.WidthInBytes = width;
    m.Height = n;
    m.Depth = 1;
    RCUDA_RETURN_IF_ERROR(Check(drv_.cuMemcpy3DAsync(&m, s), "cuMemcpy3DAsync"));
    // The rows are reused (or sent) once the copy is done with them.
    RCUDA_RETURN_IF_ERROR(Check(drv_.cuStreamSynchronize(s), "cuStreamSynchronize"));
    return to_array ? Status::Ok() : (*write)(rows.data(), n * width);
  });
}

Status CudaExecutor::ArrayCopyFromHost(uint64_t handle, uint64_t x, uint64_t y, uint64_t width, uint64_t height,
                                       uint64_t stream, const ChunkReader& read) {
  return ArrayCopyHost(handle, x, y, width, height, stream, /*to_array=*/true, &read, nullptr);
}

Status CudaExecutor::ArrayCopyToHost(uint64_t handle, uint64_t x, uint64_t y, uint64_t width, uint64_t height,
                                     uint64_t stream, const ChunkWriter& write) {
  return ArrayCopyHost(handle, x, y, width, height, stream, /*to_array=*/false, nullptr, &write);
}

Status CudaExecutor::ArrayCopyDevice(uint64_t handle, uint64_t x, uint64_t y, uint64_t device, uint64_t pitch,
                                     uint64_t width, uint64_t height, bool to_array, uint64_t stream) {
  CUstream s = nullptr;
  const ArrayEntry* a = nullptr;
  RCUDA_RETURN_IF_ERROR(StreamOf(stream, &s));
  RCUDA_RETURN_IF_ERROR(ArrayRectangle(handle, x, y, width, height, &a));
  if (width == 0 || height == 0) return Status::Ok();
  const uint64_t row_pitch = height > 1 ? pitch : width;
  return ForEachPiece(a->height, y, height, height, [&](uint64_t row, uint64_t layer, uint64_t n, uint64_t done) {
    CUDA_MEMCPY3D m{};
    (to_array ? m.dstMemoryType : m.srcMemoryType) = CU_MEMORYTYPE_ARRAY;
    (to_array ? m.srcMemoryType : m.dstMemoryType) = CU_MEMORYTYPE_DEVICE;
    (to_array ? m.dstArray : m.srcArray) = a->array;
    (to_array ? m.dstXInBytes : m.srcXInBytes) = x;
    (to_array ? m.dstY : m.srcY) = row;
    (to_array ? m.dstZ : m.srcZ) = layer;
    (to_array ? m.srcDevice : m.dstDevice) = device + done * row_pitch;
    (to_array ? m.srcPitch : m.dstPitch) = row_pitch;
    m.WidthInBytes = width;
    m.Height = n;
    m.Depth = 1;
    return Check(drv_.cuMemcpy3DAsync(&m, s), "cuMemcpy3DAsync");
  });
}

}  // namespace rcuda
