// Which transport a session uses to reach its server
// (protocol/transport_registry.h lists them):
// - an endpoint with a scheme ("ucx://gpu1@8308:0") uses that transport or
//   fails; "tls://" is TCP over TLS;
// - otherwise RCUDA_TRANSPORT: `auto` (default) tries, in the registry's
//   order, the transports that apply to the endpoint (shared memory for a
//   server on this host, then TCP); a transport's name uses that one, and
//   where it cannot (UCX missing here or at the server) its fallback, TCP,
//   with a warning; shared memory has none (an error, as it always was).
//
// TCP runs over TLS when RCUDA_TLS is 1 (or "required"), or when the
// device's endpoint says tls:// (then always TCP, never shared memory):
// the server's certificate is checked against RCUDA_TLS_CA (else the
// system's trusted CAs) and the host name or address dialled
// (RCUDA_TLS_SERVER_NAME instead, if set), and RCUDA_TLS_CERT/RCUDA_TLS_KEY
// are presented to servers that require a client certificate. With
// RCUDA_TLS set, shared memory (which never leaves the host) is used as
// without it, and UCX, which is not encrypted, is refused with an error.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "common/endpoint.h"
#include "protocol/tcp_stripes.h"
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

// Once the server accepted the Hello sent over `connection`: whether the
// connection is what was asked for (a UCX endpoint whose server did not
// upgrade is not: an error for "ucx://", a warning for RCUDA_TRANSPORT=ucx).
Status ConfirmTransport(Connection& connection);

// The Hello's `transport`: the transport the client asks the server for.
std::string HelloTransport(const Connection& connection);

// Striped TCP (protocol/tcp_stripes.h): how many data streams a session
// over `control` opens beside it: RCUDA_TCP_STREAMS (default
// DefaultTcpStreams(); 0 or 1: none), at most `server_cap`
// (HelloReply.tcp_streams), and none unless `control` is plain TCP.
int TcpStreamsWanted(const Connection& control, uint32_t server_cap);
// 4 on hosts of 8 cores or more, else 1 (none): on 2 cores the streams'
// threads compete for the cores that copy the data, and striping measured
// slower than one stream (docs/performance.md, "Striped TCP").
int DefaultTcpStreams();

// Opens `count` data streams to the session's server and attaches each
// with the session's key; *stripes stays null on failure (the session then
// carries everything on its control connection).
Status OpenTcpStripes(const Endpoint& endpoint, const std::string& session_key, int count,
                      std::unique_ptr<TcpStripes>* stripes);

}  // namespace rcuda::client
