// A client's TLS connection to rcuda-server: TCP, the plaintext preamble
// (protocol/tls/tls_preamble.h), then the TLS handshake, in which the
// server's certificate is verified against the context's CAs and the name
// the client dialled.
#pragma once

#include <chrono>
#include <memory>
#include <span>
#include <string>

#include "protocol/tcp_transport.h"
#include "protocol/tls/tls_context.h"
#include "protocol/transport.h"

namespace rcuda {

struct TlsConnectOptions {
  TcpOptions tcp;  // connect_timeout bounds the TCP connect
  // Bounds the preamble and the TLS handshake together (the server may
  // start a worker for the session first).
  std::chrono::milliseconds handshake_timeout{60000};
  // The name the server's certificate must carry; empty: the host dialled.
  std::string verify_name;
};

// `preamble`: the flatbuffer TlsPreamble made. A server that answers it in
// plaintext (it refuses the connection, or speaks no TLS) fails the connect
// with the server's own words.
Status TlsConnect(const std::string& host, uint16_t port, std::shared_ptr<const TlsContext> context,
                  std::span<const uint8_t> preamble, const TlsConnectOptions& options,
                  std::unique_ptr<Connection>* connection);

}  // namespace rcuda
