// The plugin's one exported function: registers every host kernel defined in
// this directory's other files (each registers itself in a static
// Registrar; see tests/fake_driver/host_kernel_api.h).
#include "tests/fake_driver/host_kernel_api.h"

RCUDA_TEST_KERNELS_PLUGIN()
