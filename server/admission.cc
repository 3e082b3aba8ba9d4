#include "server/admission.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace rcuda {

std::string PeerAddress(const Connection& connection) {
  int fd = connection.NativeHandle();
  if (fd < 0) return "unknown";
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return "unknown";
  char text[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&addr)->sin_addr, text, sizeof text);
    return std::string("ip ") + text;
  }
  if (addr.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&addr)->sin6_addr, text, sizeof text);
    return std::string("ip ") + text;
  }
  if (addr.ss_family == AF_UNIX) {
    ucred cred{};
    socklen_t cred_len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cred_len) == 0) return "uid " + std::to_string(cred.uid);
  }
  return "unknown";
}

bool Admission::AdmitHandshake(const std::string& peer, std::string* why) {
  if (limits_.max_handshakes > 0 && pending_ >= limits_.max_handshakes) {
    *why = std::to_string(pending_) + " handshakes already pending (--max-handshakes)";
    return false;
  }
  int& mine = per_peer_[peer];
  if (limits_.max_per_peer > 0 && mine >= limits_.max_per_peer) {
    *why = peer + " already has " + std::to_string(mine) +
           " connections and sessions (--max-connections-per-peer)";
    return false;
  }
  ++mine;
  ++pending_;
  return true;
}

void Admission::HandshakeDone(const std::string& peer, bool became_session) {
  --pending_;
  if (!became_session) Drop(peer);
}

void Admission::SessionEnded(const std::string& peer) { Drop(peer); }

int Admission::of_peer(const std::string& peer) const {
  auto it = per_peer_.find(peer);
  return it == per_peer_.end() ? 0 : it->second;
}

void Admission::Drop(const std::string& peer) {
  auto it = per_peer_.find(peer);
  if (it == per_peer_.end()) return;
  if (--it->second <= 0) per_peer_.erase(it);
}

}  // namespace rcuda
