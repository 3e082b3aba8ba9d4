#include "protocol/adopt.h"

#include <unistd.h>

#include "protocol/shm_transport.h"
#include "protocol/tcp_transport.h"
#include "protocol/ucx/ucx_transport.h"

namespace rcuda {

Status AdoptConnection(const std::string& kind, const std::vector<int>& fds, std::unique_ptr<Connection>* connection) {
  if (kind == "tcp" && fds.size() == 1) return TcpAdopt(fds[0], connection);
  if (kind == "shm" && fds.size() == 2) return ShmAdopt(fds[0], fds[1], connection);
  if (kind == "ucx" && fds.size() == 1) return UcxAdopt(fds[0], connection);
  for (int fd : fds) close(fd);
  return Status::InvalidValue("cannot adopt a '" + kind + "' connection with " + std::to_string(fds.size()) +
                              " descriptors");
}

}  // namespace rcuda
