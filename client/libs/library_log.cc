#include "client/libs/library_log.h"

#include <cstdio>
#include <mutex>
#include <set>
#include <string>

namespace rcuda::libs {

void LogNotForwarded(const char* library, const char* function) {
  static std::mutex mu;
  static std::set<std::string>* logged = new std::set<std::string>;  // never destroyed: exports may run at exit
  std::lock_guard lock(mu);
  if (logged->insert(function).second) {
    // The status is the description's not_supported= (cuBLAS: NOT_SUPPORTED;
    // cuRAND, which has none: NOT_INITIALIZED).
    std::fprintf(stderr,
                 "rcuda: %s: %s is not forwarded by rcuda; it returns the library's \"not supported\" status\n",
                 library, function);
  }
}

}  // namespace rcuda::libs
