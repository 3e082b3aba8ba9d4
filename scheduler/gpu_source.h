// Where rcuda-gpu-monitor gets each GPU's memory and utilization: NVML (the
// real GPUs), or an inventory file for machines without a GPU (tests, CI).
// Reports always say which (NodeReport::source), and so do ssgmd's status
// and logs: inventory figures are never passed off as measurements.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "scheduler/cluster_types.h"

namespace rcuda::sched {

class GpuSource {
 public:
  virtual ~GpuSource() = default;
  virtual Status Read(std::vector<GpuReport>* gpus) = 0;
  // "nvml" or "inventory:<path>".
  virtual std::string Describe() const = 0;
};

// NVML through dlopen("libnvidia-ml.so.1"): fails clearly where there is no driver.
Status OpenNvmlGpuSource(std::unique_ptr<GpuSource>* source);

// An inventory file, re-read on every Read() so tests can change it:
//   # index  total  free  utilization%  name (rest of the line)
//   0        80G    79G   0             NVIDIA H100 80GB HBM3
std::unique_ptr<GpuSource> NewInventoryGpuSource(std::string path);
Status ParseInventory(std::string_view text, std::vector<GpuReport>* gpus);

}  // namespace rcuda::sched
