// The plugin's one exported function: registers every host kernel defined in
// this directory's other files (each registers itself in a static
// Registrar; see server/test_kernel_api.h).
#include "server/test_kernel_api.h"

RCUDA_TEST_KERNELS_PLUGIN()
