#include "client/unsupported.h"

#include <mutex>
#include <set>
#include <string>

#include "client/errors.h"
#include "client/log.h"

namespace rcuda::client {

int Unsupported(const char* name) {
  static std::mutex mu;
  static std::set<std::string>* logged = new std::set<std::string>;
  {
    std::lock_guard lock(mu);
    if (logged->insert(name).second) {
      Log(LogLevel::kWarn, std::string(name) + " is not supported by rcuda; it returns cudaErrorNotSupported");
    }
  }
  return Fail(cudaErrorNotSupported);
}

}  // namespace rcuda::client
