// The plaintext first frame of a TLS connection to rcuda-server: a Hello
// whose `transport` is "tls" and that carries only what the daemon needs to
// route the connection: the GPU, or for a session's host channel the
// session's attach route. Nothing secret: the session's real Hello (lease
// token, attach key, program, client host) follows inside TLS, where the
// worker that got the connection reads it. Design: docs/design.md ("TLS").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "protocol/rcuda_generated.h"

namespace rcuda {

inline constexpr char kTlsTransportName[] = "tls";

// The preamble's flatbuffer (a wire::Message holding the Hello, id 0), for
// WriteFrame. `attach_route` empty: a session; else its host channel.
std::vector<uint8_t> TlsPreamble(int gpu, const std::string& attach_route);

// Whether `hello` asks for TLS.
bool IsTlsPreamble(const wire::Hello& hello);

// The route of a session's host channel: a digest of the session's attach
// key (HelloReply.session_key, which travels only inside TLS). The daemon
// finds the session's worker by it without seeing the key; without the key
// nobody can compute it, so a stranger cannot aim handshakes at a session's
// worker before its client attaches.
std::string AttachRoute(const std::string& session_key);

}  // namespace rcuda
