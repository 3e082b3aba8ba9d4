#include "client/array_records.h"

#include <cuda.h>

#include "protocol/array_format.h"

namespace rcuda::client {

ArrayTables& Arrays() {
  static ArrayTables* tables = new ArrayTables;  // never destroyed: exports may run during exit
  return *tables;
}

bool FindArray(const void* array, ArrayRecord* out) {
  std::lock_guard lock(Arrays().mu);
  auto it = Arrays().arrays.find(array);
  if (it == Arrays().arrays.end()) return false;
  *out = *it->second;
  return true;
}

bool FormatOf(const cudaChannelFormatDesc& d, int64_t* format, int64_t* channels) {
  const int bits[4] = {d.x, d.y, d.z, d.w};
  int n = 0;
  while (n < 4 && bits[n] != 0) ++n;
  for (int i = n; i < 4; ++i)
    if (bits[i] != 0) return false;
  if (n == 0 || n == 3) return false;
  for (int i = 1; i < n; ++i)
    if (bits[i] != bits[0]) return false;
  const int b = bits[0];
  switch (d.f) {
    case cudaChannelFormatKindUnsigned:
      *format = b == 8 ? CU_AD_FORMAT_UNSIGNED_INT8 : b == 16 ? CU_AD_FORMAT_UNSIGNED_INT16 : b == 32 ? CU_AD_FORMAT_UNSIGNED_INT32 : 0;
      break;
    case cudaChannelFormatKindSigned:
      *format = b == 8 ? CU_AD_FORMAT_SIGNED_INT8 : b == 16 ? CU_AD_FORMAT_SIGNED_INT16 : b == 32 ? CU_AD_FORMAT_SIGNED_INT32 : 0;
      break;
    case cudaChannelFormatKindFloat:
      *format = b == 16 ? CU_AD_FORMAT_HALF : b == 32 ? CU_AD_FORMAT_FLOAT : 0;
      break;
    default:
      return false;
  }
  *channels = n;
  return *format != 0;
}

TextureSampling SamplingOf(const cudaTextureDesc& t) {
  TextureSampling s;
  s.address = int64_t(t.addressMode[0]) | int64_t(t.addressMode[1]) << 8 | int64_t(t.addressMode[2]) << 16;
  if (t.readMode == cudaReadModeElementType) s.flags |= CU_TRSF_READ_AS_INTEGER;
  if (t.normalizedCoords) s.flags |= CU_TRSF_NORMALIZED_COORDINATES;
  if (t.disableTrilinearOptimization) s.flags |= CU_TRSF_DISABLE_TRILINEAR_OPTIMIZATION;
  s.border_rg = static_cast<int64_t>(rcuda::FloatPairBits(t.borderColor[0], t.borderColor[1]));
  s.border_ba = static_cast<int64_t>(rcuda::FloatPairBits(t.borderColor[2], t.borderColor[3]));
  return s;
}

}  // namespace rcuda::client
