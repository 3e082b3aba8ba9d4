// The session worker's half of TLS (docs/design.md, "TLS"): the daemon
// hands it the raw socket of a client whose plaintext preamble asked for
// TLS; the worker does the handshake (its certificate loaded while it was
// warm) and reads the real Hello inside TLS, within --handshake-timeout.
#pragma once

#include <memory>

#include "common/status.h"
#include "protocol/transport.h"
#include "server/fd_passing.h"
#include "server/session_worker.h"

namespace rcuda {

// A session: handshake, Hello, the Hello sent to the daemon over
// `control_fd` and the daemon's verdict back (server/tls_handoff.h). On
// success *connection is the TLS connection, handoff->hello the session's
// Hello and handoff->lease_fd/lease_slot its lease's account; a refusal is
// told to the client inside TLS and returned.
Status StartTlsSession(const SessionPolicy& policy, int control_fd, Handoff* handoff,
                       std::unique_ptr<Connection>* connection);

// A session's host channel: handshake and Hello (into handoff->hello); the
// caller checks its attach key.
Status AcceptTlsChannel(const SessionPolicy& policy, Handoff* handoff, std::unique_ptr<Connection>* connection);

}  // namespace rcuda
