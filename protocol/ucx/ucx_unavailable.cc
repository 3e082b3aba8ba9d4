// The UCX transport's functions in a build without UCX's headers: each says
// so (the API's own error), and nothing else changes.
#include <unistd.h>

#include "protocol/ucx/ucx_transport.h"

namespace rcuda {
namespace {
constexpr const char* kWhy = "this rcuda was built without UCX (install libucx-dev and rebuild)";
}

bool UcxAvailable(std::string* why) {
  if (why) *why = kWhy;
  return false;
}

Status UcxPrepare() { return Status::NotSupported(kWhy); }

Status UcxPrepareAdoption() { return Status::NotSupported(kWhy); }

std::string UcxVersion() { return ""; }

Status UcxConnect(const std::string&, uint16_t, const UcxOptions&, std::unique_ptr<Connection>*) {
  return Status::NotSupported(kWhy);
}

Status UcxListen(const std::string&, uint16_t, std::unique_ptr<Listener>*) { return Status::NotSupported(kWhy); }

Status UcxAdopt(int socket_fd, std::unique_ptr<Connection>*, const UcxOptions&) {
  close(socket_fd);
  return Status::NotSupported(kWhy);
}

Status UcxConfirm(Connection&, std::string*) { return Status::Ok(); }

std::string UcxTransportsInUse(Connection&) { return ""; }

}  // namespace rcuda
