// cuGetProcAddress's table (generated from exports.tsv): each name the
// driver API's entry-point query may ask for, with the export serving it.
#pragma once

#include <cstddef>

namespace rcuda::client::driver {

struct ProcEntry {
  const char* name;
  void* function;
  // The ABI version the export implements (cudaTypedefs.h's newest
  // PFN_<name>_v<version>): an older one is not served.
  int abi_version;
  // Whether the name has a per-thread-default-stream variant, which is not
  // served (the exports use the legacy default stream).
  bool has_per_thread;
};

extern const ProcEntry kProcTable[];
extern const size_t kProcTableSize;

}  // namespace rcuda::client::driver
