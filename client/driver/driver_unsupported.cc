#include "client/driver/driver_unsupported.h"

#include <cstdio>
#include <mutex>
#include <set>
#include <string>

namespace rcuda::client::driver {

int Unsupported(const char* name) {
  static std::mutex mu;
  static std::set<std::string>* logged = new std::set<std::string>;
  std::lock_guard lock(mu);
  if (logged->insert(name).second) {
    std::fprintf(stderr, "rcuda: %s is not supported by rcuda's libcuda.so.1; it returns CUDA_ERROR_NOT_SUPPORTED\n",
                 name);
  }
  return 801;  // CUDA_ERROR_NOT_SUPPORTED
}

}  // namespace rcuda::client::driver
