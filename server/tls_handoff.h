// The second half of a TLS session's handoff (docs/design.md, "TLS"), on the
// daemon's control socket with the worker. The worker did the TLS handshake
// on the socket the daemon handed it and read the session's Hello inside
// TLS; that Hello (with the lease token the daemon never saw) goes back to
// the daemon, which answers with its verdict: the lease's shared memory
// account and this session's slot in it, or why the session is refused.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"

namespace rcuda {

// A Hello is at most this large (the daemon's limit on any first frame).
inline constexpr size_t kMaxTlsHelloBytes = 16 << 10;

struct TlsVerdict {
  std::string refusal;  // empty: go on
  int lease_fd = -1;    // the lease's account (server/lease_memory.h), -1 without a lease
  int lease_slot = -1;
};

// Worker to daemon.
Status SendTlsHello(int control_fd, std::span<const uint8_t> hello);
// Daemon: the worker's report, or an error when the worker ends first (its
// handshake failed) or `deadline` passes.
Status ReceiveTlsHello(int control_fd, std::chrono::steady_clock::time_point deadline, std::vector<uint8_t>* hello);

// Daemon to worker. The lease descriptor stays the caller's.
Status SendTlsVerdict(int control_fd, const TlsVerdict& verdict);
Status ReceiveTlsVerdict(int control_fd, std::chrono::steady_clock::time_point deadline, TlsVerdict* verdict);

}  // namespace rcuda
