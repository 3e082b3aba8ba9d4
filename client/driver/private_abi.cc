// The libcudart side of client/driver/private_driver_abi.h.
#include "client/driver/private_driver_abi.h"

#include "client/export.h"

extern "C" RCUDA_EXPORT int rcudaPrivateAbiVersion(void) { return RCUDA_PRIVATE_ABI_VERSION; }
