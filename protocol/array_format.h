// The element formats of CUDA arrays, as both sides need them: the client
// turns a cudaChannelFormatDesc into a (CUarray_format, channels) pair and
// back; the worker sizes an array from it before anything is allocated.
// Values are the driver's CUarray_format (cuda.h), which travel as they are.
#pragma once

#include <cstdint>
#include <cstring>
#include <initializer_list>

namespace rcuda {

// Bytes of one component of `format`; 0 for a format rcuda does not carry
// (block-compressed, NV12, packed 10-bit: refused).
inline uint32_t ArrayFormatComponentBytes(int64_t format) {
  switch (format) {
    case 0x01: return 1;  // CU_AD_FORMAT_UNSIGNED_INT8
    case 0x02: return 2;  // CU_AD_FORMAT_UNSIGNED_INT16
    case 0x03: return 4;  // CU_AD_FORMAT_UNSIGNED_INT32
    case 0x08: return 1;  // CU_AD_FORMAT_SIGNED_INT8
    case 0x09: return 2;  // CU_AD_FORMAT_SIGNED_INT16
    case 0x0a: return 4;  // CU_AD_FORMAT_SIGNED_INT32
    case 0x10: return 2;  // CU_AD_FORMAT_HALF
    case 0x20: return 4;  // CU_AD_FORMAT_FLOAT
    default: return 0;
  }
}

// Bytes of one element: 0 when the format or the channel count (1, 2 or 4)
// is not one rcuda carries.
inline uint32_t ArrayElementBytes(int64_t format, int64_t channels) {
  if (channels != 1 && channels != 2 && channels != 4) return 0;
  return ArrayFormatComponentBytes(format) * static_cast<uint32_t>(channels);
}

// Bytes of an array of width x height x depth elements (0 height or depth:
// 1), or false when a dimension is negative, the element unknown or the
// product overflows 64 bits.
inline bool ArrayBytes(int64_t width, int64_t height, int64_t depth, int64_t format, int64_t channels,
                       uint64_t* bytes) {
  uint32_t element = ArrayElementBytes(format, channels);
  if (element == 0 || width <= 0 || height < 0 || depth < 0) return false;
  uint64_t b = element;
  for (int64_t d : {width, height, depth})
    if (__builtin_mul_overflow(b, static_cast<uint64_t>(d == 0 ? 1 : d), &b)) return false;
  *bytes = b;
  return true;
}

// Texture parameters (border colours, the mipmap level bias and clamps)
// travel as the bits of two floats in one 64-bit value, `low` in its low half.
inline uint64_t FloatPairBits(float low, float high) {
  uint32_t lo, hi;
  std::memcpy(&lo, &low, 4);
  std::memcpy(&hi, &high, 4);
  return uint64_t{lo} | (uint64_t{hi} << 32);
}
inline float FloatOfBits(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// CUDA_ARRAY3D_LAYERED (cuda.h), for the sides that do not include it.
constexpr int64_t kArrayLayeredFlag = 0x01;

// Mipmapped arrays: at most this many levels (a 2^31-wide level 0 has 32).
constexpr int64_t kMipmapMaxLevels = 32;

// The extent of level `level` of a mipmapped array whose level 0 is width x
// height x depth: each dimension it has halves, down to 1; 0 (an absent
// dimension) stays 0, and so do the layers of a layered array (`layered`).
inline void MipmapLevelExtent(int64_t level, bool layered, int64_t* width, int64_t* height, int64_t* depth) {
  auto halve = [level](int64_t* d) {
    if (*d > 0) *d = (*d >> level) > 0 ? (*d >> level) : 1;
  };
  halve(width);
  halve(height);
  if (!layered) halve(depth);
}

// The levels a mipmapped array has when `requested` are asked for: as the
// driver does, clamped to [1, 1 + floor(log2(largest dimension))] (the
// layers of a layered array are not a dimension); 0 for an impossible shape.
inline int64_t MipmapLevelCount(int64_t width, int64_t height, int64_t depth, bool layered, int64_t requested) {
  int64_t largest = width;
  if (height > largest) largest = height;
  if (!layered && depth > largest) largest = depth;
  if (width < 1 || height < 0 || depth < 0) return 0;
  int64_t most = 1;
  while (most < kMipmapMaxLevels && (largest >> most) > 0) ++most;
  return requested < 1 ? 1 : requested > most ? most : requested;
}

// Bytes of the `levels` levels of a mipmapped array (a count
// MipmapLevelCount gave), or false for an unknown element or an overflow.
inline bool MipmapBytes(int64_t width, int64_t height, int64_t depth, int64_t format, int64_t channels, bool layered,
                        int64_t levels, uint64_t* bytes) {
  if (levels < 1 || levels > kMipmapMaxLevels) return false;
  uint64_t total = 0;
  for (int64_t l = 0; l < levels; ++l) {
    int64_t w = width, h = height, d = depth;
    MipmapLevelExtent(l, layered, &w, &h, &d);
    uint64_t b = 0;
    if (!ArrayBytes(w, h, d, format, channels, &b) || __builtin_add_overflow(total, b, &total)) return false;
  }
  *bytes = total;
  return true;
}

}  // namespace rcuda
