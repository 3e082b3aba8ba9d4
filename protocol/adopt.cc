#include "protocol/adopt.h"

#include <unistd.h>

#include "protocol/transport_registry.h"

namespace rcuda {

Status AdoptConnection(const std::string& kind, const std::vector<int>& fds, std::unique_ptr<Connection>* connection) {
  const TransportEntry* entry = FindTransport(kind);
  if (entry && entry->adopt && fds.size() == entry->handles) return entry->adopt(fds, connection);
  for (int fd : fds) close(fd);
  return Status::InvalidValue("cannot adopt a '" + kind + "' connection with " + std::to_string(fds.size()) +
                              " descriptors");
}

}  // namespace rcuda
