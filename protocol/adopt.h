// Rebuilding a Connection in another process from what
// Connection::Kind() and HandoffHandles() gave: how the daemon's accepted
// connections reach the session workers, whatever their transport.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "protocol/transport.h"

namespace rcuda {

// Takes ownership of `fds` (also on failure).
Status AdoptConnection(const std::string& kind, const std::vector<int>& fds, std::unique_ptr<Connection>* connection);

}  // namespace rcuda
