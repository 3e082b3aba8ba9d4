// How the CUDA executor cuts a strided copy (Copy3D) into driver copies:
// between device memory and a packed host buffer in pieces that each fit a
// staging chunk, or device to device in one CUDA_MEMCPY3D. Pure functions of
// their arguments: no driver call, no state.
#pragma once

#include <cuda.h>

#include <cstdint>

#include "server/executor.h"

namespace rcuda {

// A piece of a strided copy, in packed order: whole rows of one slice when a
// row fits the chunk, else part of one row.
struct CopyPiece {
  uint64_t z, y, x, rows, bytes_per_row;
  uint64_t bytes() const { return rows * bytes_per_row; }
};

// Walks the pieces of `copy` one at a time (a copy of many short rows has
// billions of them), each at most `chunk` bytes.
class CopyPieceCursor {
 public:
  CopyPieceCursor(const Copy3D& copy, uint64_t chunk) : c_(copy), chunk_(chunk) {}
  // The next piece; false when there is none left.
  bool Next(CopyPiece* piece);

 private:
  const Copy3D& c_;
  const uint64_t chunk_;
  uint64_t z_ = 0, y_ = 0, x_ = 0;
};

// The driver copy of one piece between the device side of `copy` (its dst
// when `to_device`, else its src) and the packed host buffer `host`.
CUDA_MEMCPY3D PieceCopy(const Copy3D& copy, const CopyPiece& piece, void* host, bool to_device);

// The whole of `copy` as a device-to-device CUDA_MEMCPY3D.
CUDA_MEMCPY3D DeviceCopy(const Copy3D& copy);

}  // namespace rcuda
