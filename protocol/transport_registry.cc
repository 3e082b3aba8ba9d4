#include "protocol/transport_registry.h"

#include "protocol/shm_entry.h"
#include "protocol/tcp_entry.h"
#include "protocol/ucx/ucx_entry.h"

namespace rcuda {

const std::vector<TransportEntry>& Transports() {
  // One line per transport. TCP first: the daemon's main listener, and
  // what the others fall back to.
  static const std::vector<TransportEntry> all = {
      TcpTransportEntry(),
      ShmTransportEntry(),
      UcxTransportEntry(),
  };
  return all;
}

const TransportEntry* FindTransport(std::string_view name) {
  for (const TransportEntry& entry : Transports()) {
    if (entry.name == name) return &entry;
  }
  return nullptr;
}

std::string TransportNames() {
  std::string names;
  for (const TransportEntry& entry : Transports()) names += (names.empty() ? "" : ", ") + entry.name;
  return names;
}

}  // namespace rcuda
