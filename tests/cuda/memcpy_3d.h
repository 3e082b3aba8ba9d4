// The layout of cudaPitchedPtr, for tests/kernels/memcpy_3d.cc (which does not
// include the CUDA headers); tests/cuda/memcpy_3d.cu checks it matches.
#pragma once

#include <cstddef>

struct PitchedPtrLayout {
  void* ptr;
  size_t pitch;
  size_t xsize;
  size_t ysize;
};
