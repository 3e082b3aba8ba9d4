// TEST EQUIPMENT: the driver entry points the fake implements are exactly
// those rcuda-server resolves (RCUDA_DRIVER_FUNCTIONS in server/cuda_driver.h),
// each declared here with the very prototype the server calls it through,
// cudaTypedefs.h's PFN_<name>_v<version>. A definition with another
// signature is not this declaration's definition, and proc_address.cc builds
// the table that cuGetProcAddress_v2 answers from the same list.
//
// The declarations are weak: an entry point added to the server's list but
// not yet implemented here leaves a null address, which cuGetProcAddress_v2
// answers with CUDA_ERROR_NOT_FOUND and a log line naming it (and the test
// fake_driver.unit.proc_address fails), instead of breaking the build.
//
// (cuda.h renames some of these, e.g. cuMemAlloc to cuMemAlloc_v2; the
// declarations and the definitions go through the same macros, so they
// agree.)
#pragma once

#include <cuda.h>
#include <cudaTypedefs.h>

#include <type_traits>

#include "server/cuda_driver.h"

namespace fake {

#define FAKE_DECLARE_ENTRY_POINT(name, version) \
  __attribute__((weak)) std::remove_pointer_t<PFN_##name##_v##version> name;
RCUDA_DRIVER_FUNCTIONS(FAKE_DECLARE_ENTRY_POINT)
#undef FAKE_DECLARE_ENTRY_POINT

}  // namespace fake
