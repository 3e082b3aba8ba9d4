#include "tests/fake_driver/device_memory.h"

#include <algorithm>
#include <cstring>

#include "tests/fake_driver/memory_pool.h"

namespace fake {
namespace {

using u128 = unsigned __int128;

// Bytes from the first to the last byte a side touches (the last included).
u128 Extent(uint64_t width, uint64_t height, uint64_t depth, uint64_t pitch, uint64_t slice) {
  return u128(depth - 1) * slice + u128(height - 1) * pitch + width;
}

CUresult ResolveSide(CUmemorytype type, const void* host, CUdeviceptr device, CUarray array, size_t x, size_t y,
                     size_t z, size_t lod, size_t pitch, size_t height, const StridedCopy& shape, CopySide* side) {
  uint64_t base = 0;
  switch (type) {
    case CU_MEMORYTYPE_HOST:
      side->device = false;
      base = reinterpret_cast<uint64_t>(host);
      break;
    case CU_MEMORYTYPE_DEVICE:
      side->device = true;
      base = device;
      break;
    case CU_MEMORYTYPE_UNIFIED:
      // With unified addressing the pointer says where it is.
      base = device;
      side->device = D().device_memory.Contains(device, 0);
      break;
    case CU_MEMORYTYPE_ARRAY: {
      // The array's own layout; the rectangle must lie inside the array
      // (the device memory check below would only catch a whole overrun).
      const Array* a = LiveArray(array);
      if (!a) return CUDA_ERROR_INVALID_HANDLE;
      if (x > a->pitch() || shape.width > a->pitch() - x || y > a->height || shape.height > a->height - y ||
          z > a->depth || shape.depth > a->depth - z) {
        return CUDA_ERROR_INVALID_VALUE;
      }
      side->device = true;
      base = a->base;
      pitch = a->pitch();
      height = a->height;
      break;
    }
    default:
      return CUDA_ERROR_INVALID_VALUE;
  }
  if (base == 0 || lod != 0) return CUDA_ERROR_INVALID_VALUE;
  bool rows = shape.height > 1 || shape.depth > 1;
  if (rows && pitch < x + shape.width) return CUDA_ERROR_INVALID_VALUE;
  if (shape.depth > 1 && height < y + shape.height) return CUDA_ERROR_INVALID_VALUE;
  u128 offset = (u128(z) * height + y) * pitch + x;
  u128 slice = u128(pitch) * height;
  if (offset + base > UINT64_MAX || slice > UINT64_MAX) return CUDA_ERROR_INVALID_VALUE;
  side->start = reinterpret_cast<uint8_t*>(base + static_cast<uint64_t>(offset));
  side->pitch = pitch;
  side->slice = static_cast<uint64_t>(slice);
  if (side->device) {
    u128 extent = Extent(shape.width, shape.height, shape.depth, side->pitch, side->slice);
    if (extent > UINT64_MAX ||
        !D().device_memory.Contains(reinterpret_cast<uint64_t>(side->start), static_cast<uint64_t>(extent))) {
      return CUDA_ERROR_INVALID_VALUE;
    }
  }
  return CUDA_SUCCESS;
}

bool SideAllocated(const StridedCopy& c, const CopySide& side) {
  u128 extent = Extent(c.width, c.height, c.depth, side.pitch, side.slice);
  return D().device_memory.Contains(reinterpret_cast<uint64_t>(side.start), static_cast<uint64_t>(extent));
}

bool SidePinned(const StridedCopy& c, const CopySide& side) {
  u128 extent = Extent(c.width, c.height, c.depth, side.pitch, side.slice);
  return D().pinned_memory.Contains(reinterpret_cast<uint64_t>(side.start), static_cast<uint64_t>(extent));
}

}  // namespace

CUresult MapDeviceMemory(Device* dev, uint64_t size, uint64_t* ptr) {
  if (size > dev->total_memory - std::min(dev->used_memory, dev->total_memory)) return CUDA_ERROR_OUT_OF_MEMORY;
  void* p = MapPages(size);
  if (!p) return CUDA_ERROR_OUT_OF_MEMORY;
  dev->used_memory += size;
  *ptr = reinterpret_cast<uint64_t>(p);
  return CUDA_SUCCESS;
}

void UnmapDeviceMemory(Device* dev, uint64_t ptr, uint64_t size) {
  UnmapPages(reinterpret_cast<void*>(ptr), size);
  dev->used_memory -= std::min(dev->used_memory, size);
}

const Array* LiveArray(CUarray handle) {
  auto it = D().arrays.find(handle);
  if (it == D().arrays.end()) return nullptr;
  // Its memory goes with its context's last release (cuDevicePrimaryCtxRelease).
  const Allocation* a = D().device_memory.AtBase(it->second->base);
  return a && a->kind == Allocation::Kind::kArray ? it->second.get() : nullptr;
}

void ReleaseAllocation(const Allocation& allocation) {
  Allocation a = allocation;  // the map entry goes away below
  D().device_memory.Remove(a.base);
  if (a.kind == Allocation::Kind::kPool) {
    ReturnToPool(a);
  } else if (a.kind == Allocation::Kind::kDevice || a.kind == Allocation::Kind::kArray) {
    UnmapDeviceMemory(D().devices[a.device].get(), a.base, a.size);
  }
}

CUresult ResolveCopy(const CUDA_MEMCPY3D& m, StridedCopy* c) {
  c->width = m.WidthInBytes;
  c->height = m.Height;
  c->depth = m.Depth;
  if (m.reserved0 || m.reserved1) return CUDA_ERROR_INVALID_VALUE;
  if (c->empty()) return CUDA_SUCCESS;
  CUresult r = ResolveSide(m.srcMemoryType, m.srcHost, m.srcDevice, m.srcArray, m.srcXInBytes, m.srcY, m.srcZ,
                           m.srcLOD, m.srcPitch, m.srcHeight, *c, &c->src);
  if (r != CUDA_SUCCESS) return r;
  return ResolveSide(m.dstMemoryType, m.dstHost, m.dstDevice, m.dstArray, m.dstXInBytes, m.dstY, m.dstZ, m.dstLOD,
                     m.dstPitch, m.dstHeight, *c, &c->dst);
}

CUresult ResolveLinearCopy(uint64_t dst, bool dst_device, uint64_t src, bool src_device, uint64_t bytes,
                           StridedCopy* c) {
  CUDA_MEMCPY3D m{};
  m.srcMemoryType = src_device ? CU_MEMORYTYPE_DEVICE : CU_MEMORYTYPE_HOST;
  m.srcDevice = src;
  m.srcHost = reinterpret_cast<const void*>(src);
  m.dstMemoryType = dst_device ? CU_MEMORYTYPE_DEVICE : CU_MEMORYTYPE_HOST;
  m.dstDevice = dst;
  m.dstHost = reinterpret_cast<void*>(dst);
  m.WidthInBytes = bytes;
  m.Height = 1;
  m.Depth = 1;
  return ResolveCopy(m, c);
}

bool TouchesPageableHost(const StridedCopy& c) {
  if (c.empty()) return false;
  return (!c.src.device && !SidePinned(c, c.src)) || (!c.dst.device && !SidePinned(c, c.dst));
}

CUresult ExecuteCopy(const StridedCopy& c) {
  if (c.empty()) return CUDA_SUCCESS;
  {
    std::lock_guard lock(D().mu);
    if ((c.src.device && !SideAllocated(c, c.src)) || (c.dst.device && !SideAllocated(c, c.dst))) {
      return CUDA_ERROR_ILLEGAL_ADDRESS;
    }
  }
  for (uint64_t z = 0; z < c.depth; ++z)
    for (uint64_t y = 0; y < c.height; ++y)
      std::memmove(c.dst.start + z * c.dst.slice + y * c.dst.pitch, c.src.start + z * c.src.slice + y * c.src.pitch,
                   c.width);
  return CUDA_SUCCESS;
}

CUresult ResolveFill(CUdeviceptr dst, uint64_t pitch, uint32_t value, unsigned element_size, uint64_t width,
                     uint64_t height, Fill* fill) {
  fill->start = reinterpret_cast<uint8_t*>(dst);
  fill->pitch = pitch;
  fill->value = value;
  fill->element_size = element_size;
  fill->width = width;
  fill->height = height;
  if (element_size != 1 && element_size != 2 && element_size != 4) return CUDA_ERROR_INVALID_VALUE;
  if (fill->empty()) return CUDA_SUCCESS;
  if (dst % element_size) return CUDA_ERROR_INVALID_VALUE;
  u128 row = u128(width) * element_size;
  if (height > 1 && (pitch < row || pitch % element_size)) return CUDA_ERROR_INVALID_VALUE;
  u128 extent = u128(height - 1) * pitch + row;
  if (extent > UINT64_MAX || !D().device_memory.Contains(dst, static_cast<uint64_t>(extent))) {
    return CUDA_ERROR_INVALID_VALUE;
  }
  return CUDA_SUCCESS;
}

CUresult ExecuteFill(const Fill& f) {
  if (f.empty()) return CUDA_SUCCESS;
  {
    std::lock_guard lock(D().mu);
    if (!D().device_memory.Contains(reinterpret_cast<uint64_t>(f.start), (f.height - 1) * f.pitch + f.width * f.element_size)) {
      return CUDA_ERROR_ILLEGAL_ADDRESS;
    }
  }
  for (uint64_t y = 0; y < f.height; ++y) {
    uint8_t* row = f.start + y * f.pitch;
    switch (f.element_size) {
      case 1:
        std::memset(row, static_cast<int>(f.value & 0xff), f.width);
        break;
      case 2: {
        uint16_t v = static_cast<uint16_t>(f.value);
        for (uint64_t x = 0; x < f.width; ++x) std::memcpy(row + 2 * x, &v, 2);
        break;
      }
      default:
        for (uint64_t x = 0; x < f.width; ++x) std::memcpy(row + 4 * x, &f.value, 4);
        break;
    }
  }
  return CUDA_SUCCESS;
}

}  // namespace fake
