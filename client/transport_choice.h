// Which transport a session uses to reach its server: shared memory when
// the server is on this host (loopback endpoint) and listens on its Unix
// socket, TCP otherwise or when RCUDA_TRANSPORT=tcp. RCUDA_TRANSPORT=shm
// insists on shared memory (an error if it cannot be set up).
//
// TCP runs over TLS when RCUDA_TLS is 1 (or "required"), or when the
// device's endpoint says tls:// (then always TCP, never shared memory):
// the server's certificate is checked against RCUDA_TLS_CA (else the
// system's trusted CAs) and the host name or address dialled
// (RCUDA_TLS_SERVER_NAME instead, if set), and RCUDA_TLS_CERT/RCUDA_TLS_KEY
// are presented to servers that require a client certificate.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "common/endpoint.h"
#include "protocol/transport.h"

namespace rcuda::client {

// `host_channel_key`: empty for a session's connection; the session's key
// for its host channel (over TLS only a digest of it is sent before the
// handshake, protocol/tls/tls_preamble.h).
Status ConnectTransport(const Endpoint& endpoint, std::chrono::milliseconds timeout,
                        std::unique_ptr<Connection>* connection, const std::string& host_channel_key = "");

// What a user can do about a TLS failure described by `message` ("" when
// there is nothing to add): which variable to set.
std::string TlsAdvice(const std::string& message);

}  // namespace rcuda::client
