// Which files of a finished invocation's output directory go where, as
// SCAR's supervisor decides it: every regular file under the directory, by
// its name relative to it, to each output whose prefix and suffix filters
// accept the name, at key "<folder>/<name>" of the output's bucket, or at
// "<function>/output/<request id>/<name>" when the output names no folder.
//
// The function's processes are all gone when this runs, so nothing changes
// under it. Links and special files are never followed nor uploaded (a link
// to /etc/shadow must not be read with rcuda-fn's rights); they are listed
// as skipped.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "faas/function/function_definition.h"

namespace rcuda::faas {

struct PlannedUpload {
  std::string local_path;
  std::string bucket;
  std::string key;
  uint64_t bytes = 0;
};

struct OutputPlan {
  std::vector<PlannedUpload> uploads;
  std::vector<std::string> skipped;  // relative names of links and special files
};

struct OutputLimits {
  size_t max_files = 1000;
  uint64_t max_total_bytes = 0;  // 0: no limit
};

// Fails (the function's error) when a name cannot be a key or a limit is
// exceeded.
Status PlanOutputs(const FunctionDefinition& function, const std::string& request_id, const std::string& output_dir,
                   const OutputLimits& limits, OutputPlan* plan);

}  // namespace rcuda::faas
