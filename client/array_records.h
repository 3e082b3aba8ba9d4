// The client's records of CUDA arrays, mipmapped arrays, texture and surface
// objects (docs/design.md, "Arrays and textures"), shared by the array API
// (api_arrays.cc) and the mipmapped array API (api_mipmaps.cc). A
// cudaArray_t / cudaMipmappedArray_t the program holds is the address of its
// record, found in a table before it is used, so that a made-up or freed
// handle is an error, never a dereference.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "client/session.h"

namespace rcuda::client {

struct ArrayRecord {
  Session* session = nullptr;
  uint64_t remote = 0;
  cudaChannelFormatDesc desc{};
  cudaExtent extent{};  // as the program gave it (0 height or depth: fewer dimensions)
  unsigned flags = 0;
  uint64_t row_bytes = 0;
  uint64_t rows = 1;    // per layer
  uint64_t layers = 1;  // the depth, or the layers of a layered array
  const void* mipmap = nullptr;  // a level of this mipmapped array: freed with it only
};

struct MipmapRecord {
  Session* session = nullptr;
  uint64_t remote = 0;
  cudaChannelFormatDesc desc{};
  cudaExtent extent{};  // of level 0
  unsigned flags = 0;
  int64_t format = 0, channels = 0, levels = 0;
  std::vector<const void*> level_arrays;  // the level records given out (null: not yet)
};

struct ObjectRecord {
  Session* session = nullptr;
  cudaResourceDesc resource{};
  cudaTextureDesc texture{};
};

struct ArrayTables {
  std::mutex mu;
  std::map<const void*, std::unique_ptr<ArrayRecord>> arrays;    // by cudaArray_t
  std::map<const void*, std::unique_ptr<MipmapRecord>> mipmaps;  // by cudaMipmappedArray_t
  std::map<uint64_t, ObjectRecord> textures, surfaces;
};

// The process's tables (never destroyed: exports may run during exit).
ArrayTables& Arrays();

// A copy of the record behind `array`, or false for one this process does
// not hold.
bool FindArray(const void* array, ArrayRecord* out);

// The driver's element format of a channel descriptor: equal channels of 8,
// 16 or 32 bits (16-bit floats: half), 1, 2 or 4 of them.
bool FormatOf(const cudaChannelFormatDesc& d, int64_t* format, int64_t* channels);

// How a texture samples, as TexObjectCreate carries it: the address modes
// (a byte each), the CU_TRSF_* flags, the border colour (float bits, two
// per value: FloatPairBits).
struct TextureSampling {
  int64_t address = 0, flags = 0, border_rg = 0, border_ba = 0;
};
TextureSampling SamplingOf(const cudaTextureDesc& t);

// cudaCreateTextureObject of a mipmapped array resource (api_mipmaps.cc).
cudaError_t CreateMipmapTexture(cudaTextureObject_t* object, const cudaResourceDesc& resource,
                                const cudaTextureDesc& texture);

}  // namespace rcuda::client
