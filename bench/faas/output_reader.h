// Reads back what the functions wrote: every object of the output bucket
// under a prefix (ListObjectsV2, page after page) and its content, to a
// JSON-lines file ({"key", "size", "content"}), for the benchmark's check
// that every input has exactly one output, and for the function's own
// start and end times, which it writes into its output.
#pragma once

#include <string>

#include "common/status.h"
#include "faas/storage/object_store.h"

namespace rcuda::faas_bench {

struct OutputReadOptions {
  std::string bucket;
  std::string prefix;
  int threads = 4;
  int max_content_bytes = 4096;  // larger objects are refused (the benchmark's are tiny)
  std::string out_path;
};

// *count gets the number of objects read.
Status ReadOutputs(faas::ObjectStore& store, const OutputReadOptions& options, int* count);

}  // namespace rcuda::faas_bench
