// Striped TCP: a TCP session's large bulk data travels as chunks spread
// over K extra "data" connections (stripes) beside its control connection,
// so that K kernel TCP streams and K threads move it instead of one.
//
// A frame whose header carries kStripedFrameMagic instead of kFrameMagic
// says "my bulk (header.bulk_bytes) follows on the stripes, not here". The
// control connection carries the header and the message only; the bulk is
// cut into chunks of kStripeChunkBytes, chunk i on stripe i % K, each
// preceded by a StripeChunkHeader naming the transfer (a per-direction
// counter), its offset and its size. Both sides compute the same layout, so
// the receiver reads every chunk straight into its place (no reassembly
// buffer), and any chunk whose header does not match the layout is a
// protocol error (Corruption) that ends the session.
//
// The data connections are attached like a host channel: a connection to
// the daemon whose Hello carries the session's key (HelloReply.session_key)
// and `stripe` = its index (1..K); the worker accepts at most
// HelloReply.tcp_streams of them, each index once, and none after the
// session's first striped frame.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "common/status.h"
#include "protocol/transport.h"

namespace rcuda {

inline constexpr uint32_t kStripedFrameMagic = 0x53554352;  // "RCUS" little-endian
inline constexpr uint32_t kStripeChunkMagic = 0x4b554352;   // "RCUK"
// Bulks smaller than this stay on the control connection (see
// docs/performance.md, "Striped TCP").
inline constexpr uint64_t kStripeMinBulkBytes = 1 << 20;
inline constexpr uint64_t kStripeChunkBytes = 512 << 10;
// The most data connections a session may have (a server's cap is at most this).
inline constexpr int kMaxTcpStreams = 16;

struct StripeChunkHeader {
  uint32_t magic;
  uint32_t bytes;     // this chunk's size: min(kStripeChunkBytes, total - offset)
  uint64_t transfer;  // 1 for a direction's first striped bulk, then 2, 3, ...
  uint64_t offset;    // within the bulk: a multiple of kStripeChunkBytes
};
static_assert(sizeof(StripeChunkHeader) == 24);

// Writes the header and message of a frame whose bulk goes on the stripes.
Status WriteStripedFrameStart(Connection& control, std::span<const uint8_t> message, uint64_t bulk_bytes);

// A session's data connections. One transfer at a time in each direction:
// the caller serializes senders (its write lock) and receivers (its single
// reader). A failure shuts every stripe down: the session is broken.
class TcpStripes {
 public:
  explicit TcpStripes(std::vector<std::unique_ptr<Connection>> connections);
  ~TcpStripes();
  TcpStripes(const TcpStripes&) = delete;
  TcpStripes& operator=(const TcpStripes&) = delete;

  size_t size() const { return connections_.size(); }

  // Sending a bulk of `total` bytes: BeginSend, Send its bytes in order (in
  // pieces of any size), EndSend (fails unless exactly `total` were sent).
  Status BeginSend(uint64_t total);
  Status Send(const void* data, size_t size);
  Status EndSend();
  // All of a bulk at once.
  Status SendAll(std::span<const ConstBuffer> bulk);

  // Receiving one: the same, reading each piece into `data`.
  Status BeginReceive(uint64_t total);
  Status Receive(void* data, size_t size);
  Status Discard(uint64_t size);
  Status EndReceive();

  void Shutdown();
  // In a forked child: closes this process's copies of the descriptors and
  // never touches the connections again (they are the parent's).
  void Abandon();

 private:
  struct Transfer {
    uint64_t counter = 0;  // transfers begun
    uint64_t total = 0;
    uint64_t position = 0;
    bool active = false;
  };
  // Moves bytes [position, position + size) of the current transfer
  // between `buffer` and the stripes, one thread per stripe involved.
  Status Move(Transfer& transfer, char* buffer, size_t size, bool send);
  Status MoveOnStripe(size_t stripe, const Transfer& transfer, char* buffer, size_t size, bool send);

  std::vector<std::unique_ptr<Connection>> connections_;
  Transfer send_, receive_;
  bool abandoned_ = false;
};

}  // namespace rcuda
