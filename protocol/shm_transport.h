// The shared-memory transport, for a client on the GPU server's own host
// (containers and VMs of the GPU node): the byte streams of a Connection go
// through two ring buffers in a memfd both processes map, so a copy costs a
// memcpy on each side instead of the kernel's TCP stack. A Unix socket
// carries the memfd (SCM_RIGHTS) at set-up and afterwards tells each side
// when the other is gone. Where the socket lives and whom each end trusts:
// protocol/shm_socket.h.
//
// Each side treats the other as hostile: the server maps a client's memfd
// only when it is sealed against resizing (a client that could shrink it
// would kill the server with SIGBUS), and each side keeps its own ring
// positions and checks the peer's against them, so a peer that writes
// nonsense into the shared words gets an error, not an out-of-bounds copy.
#pragma once

#include <fcntl.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "protocol/shm_socket.h"
#include "protocol/transport.h"

namespace rcuda {

// ---- The shared region: the ABI between the two processes ----------------
// Two rings; ring 0 carries the client's bytes to the server, ring 1 the
// server's to the client. A ring is a header of kShmRingHeaderBytes, then
// kShmRingBytes of data. The header holds the consumer's position (u64 at
// kShmHeadOffset) and the producer's (u64 at kShmTailOffset); positions only
// grow, and the ring holds tail - head bytes.
inline constexpr size_t kShmRingBytes = 8 << 20;  // a power of two
inline constexpr size_t kShmRingHeaderBytes = 192;
inline constexpr size_t kShmRegionBytes = 2 * (kShmRingHeaderBytes + kShmRingBytes);
inline constexpr size_t kShmHeadOffset = 0;
inline constexpr size_t kShmTailOffset = 64;
// The set-up message: this magic, with the memfd attached.
inline constexpr uint32_t kShmSetupMagic = 0x53554352;  // "RCUS"
// The seals the server requires on a client's memfd.
inline constexpr int kShmRequiredSeals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;

// Client side: connects to a server's Unix socket, checks that the listener
// is a server this user trusts (protocol/shm_socket.h), and sets up the
// rings in a sealed memfd. *absent (if given) tells a path where no server
// listens (no socket, or a stale one) from a refusal.
Status ShmConnect(const std::string& socket_path, std::unique_ptr<Connection>* connection, bool* absent = nullptr);

// Server side: listens on a Unix socket; each accepted connection brings
// its memfd. A client that connects and sends nothing holds up no one else.
Status ShmListen(const std::string& socket_path, std::unique_ptr<Listener>* listener);

// Rebuilds a server-side connection from the handles a worker received
// (Connection::HandoffHandles of an accepted one: socket, memfd), checking
// the memfd again. Takes ownership of both.
Status ShmAdopt(int socket_fd, int memfd, std::unique_ptr<Connection>* connection);

}  // namespace rcuda
