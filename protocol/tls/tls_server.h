// The server's side of a TLS connection (docs/design.md, "TLS"): the daemon
// reads the plaintext preamble and checks, without consuming anything, that
// a TLS ClientHello follows; the session worker it hands the socket to does
// the handshake and reads the real Hello inside TLS.
#pragma once

#include <chrono>
#include <memory>

#include "common/status.h"
#include "protocol/tls/tls_connection.h"
#include "protocol/tls/tls_context.h"

namespace rcuda {

// Waits until the socket `fd` holds the start of a TLS record carrying a
// ClientHello, and leaves it there (MSG_PEEK). Anything else, the peer's
// end or `deadline` fails: such a peer never reaches a worker.
Status AwaitClientHello(int fd, std::chrono::steady_clock::time_point deadline);

// The server's TLS handshake on `fd` (an accepted TCP socket, owned from
// here on, also on failure), finished before `deadline`.
Status TlsAccept(int fd, std::shared_ptr<const TlsContext> context, std::chrono::steady_clock::time_point deadline,
                 std::unique_ptr<TlsConnection>* connection);

}  // namespace rcuda
