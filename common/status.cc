#include "common/status.h"

namespace rcuda {

std::string Status::ToString() const {
  if (ok()) return "OK";
  return "error " + std::to_string(code_) + ": " + message_;
}

}  // namespace rcuda
