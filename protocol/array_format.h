// The element formats of CUDA arrays, as both sides need them: the client
// turns a cudaChannelFormatDesc into a (CUarray_format, channels) pair and
// back; the worker sizes an array from it before anything is allocated.
// Values are the driver's CUarray_format (cuda.h), which travel as they are.
#pragma once

#include <cstdint>
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

}  // namespace rcuda
