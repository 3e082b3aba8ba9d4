// The driver API's calls beyond modules and launches, checked by
// driver_vector_add (driver_calls.cu): contexts, streams and events, host
// memory, pitched memory and 2D copies, unified copies, function settings,
// a created context.
#pragma once

#include <cuda.h>

#include <string>

#include "test_util.h"

// `module` holds driver_kernels.cu's drvVecAdd; `image` is a fatbinary of
// the same, loaded again in a created context.
void DriverCalls(CUmodule module, const std::string& image, rtest::Rng& rng, rtest::Checksum& sum);

// CUDA arrays, texture and surface objects and mipmapped arrays through the
// driver API (driver_arrays.cu); `module` holds driver_kernels.cu's
// drvTexShift.
void DriverArrays(CUmodule module, rtest::Rng& rng, rtest::Checksum& sum);
