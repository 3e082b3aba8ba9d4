// The driver API's calls beyond modules and launches, checked by
// driver_vector_add (driver_calls.cu): contexts, streams and events, host
// memory, pitched memory and 2D copies, unified copies, function settings.
#pragma once

#include <cuda.h>

#include "test_util.h"

// `module` holds driver_kernels.cu's drvVecAdd.
void DriverCalls(CUmodule module, rtest::Rng& rng, rtest::Checksum& sum);
