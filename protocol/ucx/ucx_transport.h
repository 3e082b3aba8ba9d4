// The UCX transport: rcuda's byte stream over UCX (UCP tagged messages), so
// that a session runs over InfiniBand or RoCE (RDMA) where the cluster has
// it, and over whatever else UCX finds (TCP, shared memory). UCX_TLS and
// UCX_NET_DEVICES choose the transports and devices, as for any UCX program.
//
// A connection starts as a TCP socket (the bootstrap): the client's Hello
// travels there, so that rcuda-server's daemon reads it and hands the socket
// to a session worker like any other (Connection::Kind() "ucx",
// HandoffHandles() the socket). The worker adopts it (UcxAdopt): it makes its
// own UCP worker and trades worker addresses with the client over the
// socket; from then on everything travels through UCX, and the socket only
// tells each side that the other is alive. Design: README.md of this folder.
//
// This header needs no UCX headers. A build without UCX (no libucx-dev)
// compiles ucx_unavailable.cc instead, whose functions say so; a build with
// it opens libucp.so.0 at run time, so it runs on machines without UCX too.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "protocol/transport.h"

namespace rcuda {

struct UcxOptions {
  std::chrono::milliseconds connect_timeout{5000};
  // Once the first step of the upgrade arrived, how long the rest may take.
  std::chrono::milliseconds upgrade_timeout{10000};
};

// Whether this build has the UCX transport and this machine has UCX
// (libucp.so.0 opens and has what rcuda calls); *why says why not. Makes no
// UCX resource: cheap enough for a daemon that never uses UCX itself.
bool UcxAvailable(std::string* why);
// Makes this process's UCP context now (UCX reads UCX_TLS and the rest, opens
// its devices): a warm worker does it before its session arrives, so that
// the session's set-up does not wait for it. Fails when UCX finds nothing
// usable. Connecting and adopting do it themselves when needed.
Status UcxPrepare();
// The UCX library's version ("1.13.1"), or "" when it is not available.
std::string UcxVersion();

// Client side: connects the bootstrap socket to host:port. The connection
// upgrades itself when the server's worker starts the upgrade, which it
// awaits on the first read (after the Hello is written).
Status UcxConnect(const std::string& host, uint16_t port, const UcxOptions& options,
                  std::unique_ptr<Connection>* connection);

// Server side: listens for bootstrap sockets on address:port (0: any free
// port). Accepted connections are plain streams over their socket until a
// worker adopts them.
Status UcxListen(const std::string& address, uint16_t port, std::unique_ptr<Listener>* listener);

// The serving process's side: takes over a bootstrap socket that an accepted
// connection handed off (after its first frame was read) and upgrades it to
// UCX. Takes ownership of `socket_fd` (also on failure).
Status UcxAdopt(int socket_fd, std::unique_ptr<Connection>* connection, const UcxOptions& options = {});

// The UCX transports a connection's endpoint uses ("tcp/lo", "sysv/memory
// cma/memory", "rc_mlx5/mlx5_0:1"); "" for a connection of another kind or
// not upgraded yet. For logs and the server's status file.
std::string UcxTransportsInUse(Connection& connection);

}  // namespace rcuda
