// Pinned host memory shared between a local client and its session worker:
// a "host segment". Over the shared-memory transport, cudaMallocHost and
// cudaHostAlloc put the program's buffer in a memfd of its own, which the
// client hands to the worker over the transport's Unix socket (SCM_RIGHTS,
// beside the ring's memfd). The worker maps it and registers it with the
// driver, so that copies from and to it carry (segment, offset, size) and
// the GPU moves the bytes by DMA, through no ring and no staging.
//
// The worker treats the client as hostile: it maps a memfd only when the
// memfd is sealed against resizing (a client that could shrink it would
// kill the worker with SIGBUS) and exactly the size the request names. A
// segment's fd travels with a token the request repeats, so an fd that does
// not belong to the request is closed, never mapped.
#pragma once

#include <fcntl.h>

#include <cstdint>

#include "common/status.h"

namespace rcuda {

// The seals a worker requires on a segment's memfd (the client adds
// F_SEAL_SEAL as well, so that nobody can add F_SEAL_WRITE later).
inline constexpr int kHostSegmentRequiredSeals = F_SEAL_SHRINK | F_SEAL_GROW;
// The message that carries a segment's memfd: this magic, then the token.
inline constexpr uint32_t kHostSegmentMagic = 0x48434352;  // "RCCH"

// Client side: a sealed memfd of `size` bytes (a positive multiple of the
// page size), mapped shared at *mapping.
Status CreateHostSegment(uint64_t size, int* fd, void** mapping);

// Client side: sends the segment's memfd with `token` over the transport's
// Unix socket.
Status SendHostSegment(int socket_fd, int segment_fd, uint64_t token);

// Worker side: receives the memfd sent with `token` from the socket, without
// waiting (the client sends it before its request). Messages with another
// token are dropped, their fds closed (a few at most: the client sends one
// per request).
Status ReceiveHostSegment(int socket_fd, uint64_t token, int* segment_fd);

// Worker side: checks that `fd` is a memfd of exactly `size` bytes, sealed
// against shrinking and growing, and maps it shared. Does not take `fd`.
Status MapHostSegment(int fd, uint64_t size, void** mapping);

}  // namespace rcuda
