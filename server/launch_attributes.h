// The driver's launch attributes for rcuda's LaunchOptions: used by a
// launch (cuLaunchKernelEx) and by a graph's kernel node
// (cuGraphKernelNodeSetAttribute), so both mean the same.
#pragma once

#include <cuda.h>

#include "protocol/launch_options.h"

namespace rcuda {

constexpr unsigned kMaxLaunchAttributes = 3;

// Fills `out` with the attributes `options` sets; their count (0: a plain launch).
inline unsigned LaunchAttributes(const LaunchOptions& options, CUlaunchAttribute out[kMaxLaunchAttributes]) {
  unsigned n = 0;
  if (options.cooperative) {
    out[n] = CUlaunchAttribute{};
    out[n].id = CU_LAUNCH_ATTRIBUTE_COOPERATIVE;
    out[n++].value.cooperative = 1;
  }
  if (options.cluster.x) {
    out[n] = CUlaunchAttribute{};
    out[n].id = CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION;
    out[n].value.clusterDim.x = options.cluster.x;
    out[n].value.clusterDim.y = options.cluster.y;
    out[n++].value.clusterDim.z = options.cluster.z;
  }
  if (options.has_priority) {
    out[n] = CUlaunchAttribute{};
    out[n].id = CU_LAUNCH_ATTRIBUTE_PRIORITY;
    out[n++].value.priority = options.priority;
  }
  return n;
}

}  // namespace rcuda
