// Kernel launch shapes shared by the client, the wire and the executors.
#pragma once

#include <cstdint>

namespace rcuda {

struct Dim3 {
  uint32_t x = 1, y = 1, z = 1;
};

// What cudaLaunchKernelExC's attributes and cudaLaunchCooperativeKernel add
// to a plain launch.
struct LaunchOptions {
  bool cooperative = false;
  Dim3 cluster{0, 0, 0};  // all zero: no cluster
  bool has_priority = false;
  int32_t priority = 0;
};

}  // namespace rcuda
