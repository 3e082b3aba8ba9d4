// cuGetProcAddress's table (generated from exports.tsv): each name the
// driver API's entry-point query may ask for, with the export serving it.
#pragma once

#include <cstddef>

namespace rcuda::client::driver {

struct ProcEntry {
  const char* name;
  void* function;
};

extern const ProcEntry kProcTable[];
extern const size_t kProcTableSize;

}  // namespace rcuda::client::driver
