// Who may start a handshake with the daemon. Before its Hello is read a
// connection is anonymous and costs the daemon a thread and a buffer, so
// their number is capped, in all and per peer address (one client machine
// cannot take every slot), and so are the sessions of one peer address.
// Not thread-safe: the daemon calls it under its lock.
#pragma once

#include <map>
#include <string>

#include "protocol/transport.h"

namespace rcuda {

// The address a connection comes from, for counting: "ip 10.0.0.5" for TCP
// (the port left out), "uid 1000" for a local shared-memory client (its
// user), "unknown" when the socket cannot say.
std::string PeerAddress(const Connection& connection);

class Admission {
 public:
  struct Limits {
    int max_handshakes = 128;  // pending handshakes in all (0: no limit)
    int max_per_peer = 64;     // pending handshakes + sessions of one address (0: no limit)
  };
  explicit Admission(Limits limits) : limits_(limits) {}

  // Whether a new connection from `peer` may start its handshake; counts
  // it as pending when it may, says why not otherwise.
  bool AdmitHandshake(const std::string& peer, std::string* why);
  // The handshake is over: the connection became a session (counted until
  // SessionEnded) or not (a host channel, a refusal, a failure).
  void HandshakeDone(const std::string& peer, bool became_session);
  void SessionEnded(const std::string& peer);

  int pending() const { return pending_; }
  int of_peer(const std::string& peer) const;

 private:
  void Drop(const std::string& peer);

  Limits limits_;
  int pending_ = 0;
  std::map<std::string, int> per_peer_;  // pending handshakes + sessions
};

}  // namespace rcuda
