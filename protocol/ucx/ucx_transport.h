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
  // Client side, for UcxConfirm: a server that answers without upgrading
  // (no UCX there) is an error rather than a plain stream over the socket.
  bool required = false;
  // Client side: this process is someone else's program (rcuda's client
  // library). Unless the user set UCX_ERROR_SIGNALS, it is set empty before
  // UCX is loaded, so that UCX installs no handlers for SIGSEGV, SIGBUS,
  // SIGILL and SIGFPE: a program's faults and its own handlers stay its
  // own. Only the first load of UCX in the process can honour it.
  bool leave_error_signals_to_program = false;
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
// What a warm session worker does ahead of its session: UcxPrepare, and the
// UCP worker the next UcxAdopt of this process will use (making one costs
// tens of milliseconds on shared memory).
Status UcxPrepareAdoption();
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

// Client side, once the server accepted the session: OK when `connection`
// travels through UCX (or is not a UCX connection). When the server
// answered without upgrading (started with --no-ucx, without libucp.so.0,
// or older than UCX support), an error if the connection was made with
// `required`, else OK with *warning saying that the session runs over the
// bootstrap's TCP socket.
Status UcxConfirm(Connection& connection, std::string* warning);

// The UCX transports a connection's endpoint uses ("tcp/lo", "sysv/memory
// cma/memory", "rc_mlx5/mlx5_0:1"); "" for a connection of another kind or
// not upgraded yet. For logs and the server's status file.
std::string UcxTransportsInUse(Connection& connection);

}  // namespace rcuda
