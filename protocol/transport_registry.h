// The transports rcuda knows, in one list: what each one does for a client
// that connects to an Endpoint, for rcuda-server's daemon that listens and
// hands accepted connections on, and for the session worker that adopts
// them. The client's transport choice (client/transport_choice.cc), the
// daemon's listeners and handoffs (server/daemon.cc), the workers' adoption
// and preparation (protocol/adopt.cc, server/server_main.cc) all go through
// this list; none of them names a transport.
//
// Adding a transport: a folder implementing Connection/Listener, a function
// returning its TransportEntry (declared in its header), and one line in
// Transports() (transport_registry.cc). The list is explicit, not built by
// static initializers: those are dropped by the linker from static
// libraries unless something else in their object file is used.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/endpoint.h"
#include "protocol/transport.h"

namespace rcuda {

// What a client's connect knows.
struct TransportConnectOptions {
  std::chrono::milliseconds timeout{5000};
  // The user named this transport for the endpoint (a scheme, "ucx://"):
  // no fallback to another transport, and a server that does not offer it
  // is an error (see TransportEntry::confirm).
  bool required = false;
};

// What a client's connect tells besides its Status.
struct TransportConnectReport {
  // Nothing of this transport is there (no local socket, say): `auto` goes
  // on to the next transport without a word. Otherwise a failure is worth
  // a warning when another transport is tried instead.
  bool absent = false;
  // Lines the client logs as warnings (each at most once per process is
  // the entry's business).
  std::vector<std::string> warnings;
};

// What the daemon's listeners know.
struct TransportListenOptions {
  std::string address;  // rcuda-server --listen
  uint16_t port = 0;    // the main listener's: what --port asked; the others': the port it bound
  // Per-transport settings from the server's command line, by
  // "<transport>.<name>" (none yet; room for a certificate's path, say).
  std::map<std::string, std::string> settings;
};

struct TransportEntry {
  // The transport's name: RCUDA_TRANSPORT's value, an endpoint's scheme
  // ("ucx://"), Connection::Kind() of its connections, the Hello's
  // `transport`, and the handoff's kind.
  std::string name;

  // ---- Client ----
  // Connects to `endpoint`; nullptr for a transport no client chooses.
  Status (*connect)(const Endpoint& endpoint, const TransportConnectOptions& options,
                    std::unique_ptr<Connection>* connection, TransportConnectReport* report) = nullptr;
  // Whether RCUDA_TRANSPORT=auto tries this transport for `endpoint`, and
  // in which order (lower first); the transports that apply are tried in
  // turn until one connects. auto_rank < 0: auto never picks it.
  int auto_rank = -1;
  bool (*auto_applies)(const Endpoint& endpoint) = nullptr;
  // Where RCUDA_TRANSPORT names this transport and it fails to connect,
  // or the server does not offer it, the transport the client uses instead
  // (with a warning); "" for none (an error). A scheme never falls back.
  std::string fallback;
  // After the server accepted the session's Hello: whether `connection` is
  // what this transport promised (a UCX connection that the server did not
  // upgrade is not, unless it was connected without `required`: then
  // *warning says it runs over the fallback). nullptr: nothing to check.
  Status (*confirm)(Connection& connection, std::string* warning) = nullptr;
  // For messages: "TCP", "shared memory", "UCX".
  std::string label;
  // Never leaves this host (shared memory). With RCUDA_TLS set, the client
  // uses TLS over TCP, a host-local transport as it is, and refuses any
  // other (UCX: not encrypted).
  bool host_local = false;

  // ---- Server: the daemon ----
  // The transport's own listener, if it has one (shared memory: a Unix
  // socket named after the port). The first entry with main_listener set
  // (and not disabled) listens first, on --listen/--port; the others then
  // get the port it bound.
  // *description says where it listens; *note what an operator should know.
  Status (*listen)(const TransportListenOptions& options, std::unique_ptr<Listener>* listener,
                   std::string* description, std::string* note) = nullptr;
  bool main_listener = false;
  // Rides on another transport's listener: a connection accepted there
  // (its Kind() is `rides_on`) whose Hello names this transport is handed
  // to the worker as this transport (UCX: a TCP connection, upgraded by
  // the worker). "" for none.
  std::string rides_on;
  // Whether this host can offer it (libucp.so.0 loads): *note says why
  // not, or what is offered ("UCX 1.13.1"). nullptr: always.
  bool (*available)(std::string* note) = nullptr;

  // ---- Server: the session worker ----
  // Rebuilds a connection from the handles the daemon handed over
  // (Connection::HandoffHandles of the accepted one); `handles` of them.
  // Takes ownership of `fds`, also on failure.
  size_t handles = 1;
  Status (*adopt)(const std::vector<int>& fds, std::unique_ptr<Connection>* connection) = nullptr;
  // What a warm worker does ahead of its session, so that the session does
  // not wait for it (UCX: the process's UCP context). nullptr: nothing.
  Status (*prepare)() = nullptr;
  // What an adopted connection actually runs on, for the log and the
  // status file (UCX: "tcp/lo", "rc_mlx5/mlx5_0:1"); nullptr or "" for
  // nothing to say.
  std::string (*describe)(Connection& connection) = nullptr;
};

// Every transport, in registration order. Built once; never changes.
const std::vector<TransportEntry>& Transports();
// The entry named `name`, or nullptr.
const TransportEntry* FindTransport(std::string_view name);
// "tcp, shm, ucx": for messages that list the choices.
std::string TransportNames();

}  // namespace rcuda
