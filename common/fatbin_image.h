// A bare module image (an ELF cubin, or PTX text) wrapped in a fatbinary of
// one entry, as nvcc's fatbinary tool would write it uncompressed.
//
// The driver accepts bare cubins and PTX in cuModuleLoadData, but rcuda's
// client sends modules through the runtime's registry, which takes
// fatbinaries (__cudaRegisterFatBinary); a driver-API program that loads
// NVRTC's output, or a .cubin or .ptx file, gets its image wrapped here.
// Entry layout: ../shared/docs/cuda13-abi.md ("Fatbinary format"); the
// fields nvcc fills beyond it were read from nvcc 13's own output, which
// tests/unit/fatbin_image_test.cc compares against byte for byte.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"

namespace rcuda {

// Size of the CUDA ELF (e_machine 190) at `data`, from its program and
// section headers (the furthest byte any of them describes), or 0 when
// `data` does not start with a 64-bit little-endian CUDA ELF header or the
// headers lie beyond `limit` bytes.
size_t CudaElfSize(const void* data, size_t limit);

// `image` is a whole CUDA ELF or PTX text (without its terminating NUL).
// Wraps it; fails (InvalidArgument) when it is neither, or names no target
// architecture.
Status WrapInFatbinary(std::string_view image, std::string* fatbin);

}  // namespace rcuda
