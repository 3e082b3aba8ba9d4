#include "server/strided_copy.h"

#include <algorithm>

namespace rcuda {

bool CopyPieceCursor::Next(CopyPiece* p) {
  if (c_.width == 0 || c_.height == 0 || z_ >= c_.depth) return false;
  if (c_.width <= chunk_) {
    uint64_t rows = std::min(std::max<uint64_t>(1, chunk_ / c_.width), c_.height - y_);
    *p = CopyPiece{z_, y_, 0, rows, c_.width};
    y_ += rows;
  } else {
    uint64_t n = std::min<uint64_t>(chunk_, c_.width - x_);
    *p = CopyPiece{z_, y_, x_, 1, n};
    x_ += n;
    if (x_ < c_.width) return true;
    x_ = 0;
    ++y_;
  }
  if (y_ >= c_.height) {
    y_ = 0;
    ++z_;
  }
  return true;
}

CUDA_MEMCPY3D PieceCopy(const Copy3D& c, const CopyPiece& p, void* host, bool to_device) {
  CUDA_MEMCPY3D m{};
  uint64_t pitch = to_device ? c.dst_pitch : c.src_pitch;
  uint64_t slice = to_device ? c.dst_height : c.src_height;
  uint64_t device = (to_device ? c.dst : c.src) + (p.z * slice + p.y) * pitch + p.x;
  if (to_device) {
    m.srcMemoryType = CU_MEMORYTYPE_HOST;
    m.srcHost = host;
    m.srcPitch = p.bytes_per_row;
    m.dstMemoryType = CU_MEMORYTYPE_DEVICE;
    m.dstDevice = device;
    m.dstPitch = pitch;
  } else {
    m.srcMemoryType = CU_MEMORYTYPE_DEVICE;
    m.srcDevice = device;
    m.srcPitch = pitch;
    m.dstMemoryType = CU_MEMORYTYPE_HOST;
    m.dstHost = host;
    m.dstPitch = p.bytes_per_row;
  }
  m.WidthInBytes = p.bytes_per_row;
  m.Height = p.rows;
  m.Depth = 1;
  return m;
}

CUDA_MEMCPY3D DeviceCopy(const Copy3D& c) {
  CUDA_MEMCPY3D m{};
  m.srcMemoryType = CU_MEMORYTYPE_DEVICE;
  m.srcDevice = c.src;
  m.srcPitch = c.src_pitch;
  m.srcHeight = c.src_height;
  m.dstMemoryType = CU_MEMORYTYPE_DEVICE;
  m.dstDevice = c.dst;
  m.dstPitch = c.dst_pitch;
  m.dstHeight = c.dst_height;
  m.WidthInBytes = c.width;
  m.Height = c.height;
  m.Depth = c.depth;
  return m;
}

}  // namespace rcuda
