// The shared-memory transport, for a client on the GPU server's own host
// (containers and VMs of the GPU node): the byte streams of a Connection go
// through two ring buffers in a memfd both processes map, so a copy costs a
// memcpy on each side instead of the kernel's TCP stack. A Unix socket
// carries the memfd (SCM_RIGHTS) at set-up and afterwards tells each side
// when the other is gone.
#pragma once

#include <memory>
#include <string>

#include "protocol/transport.h"

namespace rcuda {

// The Unix socket a server listening on TCP `port` also listens on, in
// $RCUDA_SOCKET_DIR (default /tmp).
std::string ShmSocketPath(uint16_t port);

// Client side: connects to the server's Unix socket and sets up the rings.
Status ShmConnect(const std::string& socket_path, std::unique_ptr<Connection>* connection);

// Server side: listens on a Unix socket; each accepted connection brings
// its memfd.
Status ShmListen(const std::string& socket_path, std::unique_ptr<Listener>* listener);

// Rebuilds a server-side connection from the handles a worker received
// (Connection::HandoffHandles of an accepted one: socket, memfd). Takes
// ownership of both.
Status ShmAdopt(int socket_fd, int memfd, std::unique_ptr<Connection>* connection);

}  // namespace rcuda
