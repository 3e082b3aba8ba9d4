// The UCX transport's bootstrap: a TCP socket per connection, opened before
// any UCX resource exists. It carries the client's first frame (the Hello
// the daemon reads), then the exchange of UCP worker addresses (the
// "upgrade", done by the process that serves the session), and afterwards
// only tells each side whether the other is still there: a peer that dies
// closes it, whatever UCX transport carried the data. Plain POSIX sockets:
// the connection polls this descriptor next to UCP's event descriptor.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace rcuda::ucx {

using Deadline = std::chrono::steady_clock::time_point;

// The upgrade message (server to client, then client to server):
//   u32 magic 'RCUX' | u32 version | u64 tag | u32 address bytes | address
// `tag` is the UCP tag the sender's stream will carry to the receiver and
// also the one it expects back; `address` its packed UCP worker address.
inline constexpr uint32_t kUpgradeMagic = 0x58554352;  // "RCUX" little-endian
inline constexpr uint32_t kUpgradeVersion = 1;
inline constexpr uint32_t kMaxWorkerAddressBytes = 64 << 10;

struct Upgrade {
  uint64_t tag = 0;
  std::vector<uint8_t> address;
};

// TCP_NODELAY and keepalive (a vanished host is noticed in about 20 s).
void TuneBootstrapSocket(int fd);

Status BootstrapListen(const std::string& address, uint16_t port, int* fd);
uint16_t BoundPort(int fd);
// Connects within `timeout`; *peer names the other end for logs.
Status BootstrapConnect(const std::string& host, uint16_t port, std::chrono::milliseconds timeout, int* fd,
                        std::string* peer);
// "1.2.3.4:5678" / "[::1]:5678" of the socket's peer.
std::string SocketPeerName(int fd);

// Blocking socket I/O. shutdown(2) of the socket (Connection::Shutdown) or
// the deadline (Deadline::max(): none) ends a wait.
Status SendAll(int fd, const void* data, size_t size);
Status ReceiveExact(int fd, void* data, size_t size, Deadline deadline);

Status SendUpgrade(int fd, const Upgrade& upgrade);
// Reads an upgrade message whose magic the caller has already read (and
// checked), or, with `magic_read` false, the whole of it.
Status ReceiveUpgrade(int fd, Deadline deadline, bool magic_read, Upgrade* upgrade);

}  // namespace rcuda::ucx
