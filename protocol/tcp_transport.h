// The TCP transport (standalone Asio, blocking sockets, TCP_NODELAY, large
// socket buffers, keepalive so a vanished peer host is noticed).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "protocol/transport.h"

namespace rcuda {

struct TcpOptions {
  std::chrono::milliseconds connect_timeout{5000};
  // Seconds of silence before keepalive probes start; 0 keeps the system's.
  int keepalive_idle_seconds = 10;
  int socket_buffer_bytes = 4 << 20;
};

// Connects to host:port within options.connect_timeout.
Status TcpConnect(const std::string& host, uint16_t port, const TcpOptions& options,
                  std::unique_ptr<Connection>* connection);

// Listens on address:port (port 0 picks a free port). Without
// `read_ahead`, accepted connections read exactly what they are asked for
// and nothing beyond: what the peer sends after its first frame stays in
// the socket for whoever the socket is handed to (rcuda-server's daemon:
// a TLS ClientHello for the session worker's handshake).
Status TcpListen(const std::string& address, uint16_t port, std::unique_ptr<Listener>* listener,
                 bool read_ahead = true);

// Wraps an already connected TCP socket (a worker receives one from the
// server daemon). Takes ownership of `fd`.
Status TcpAdopt(int fd, std::unique_ptr<Connection>* connection);

}  // namespace rcuda
