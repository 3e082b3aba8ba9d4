// Frames: how messages travel on a Connection.
//
//   u32 magic 'RCUF' | u32 message bytes | u64 bulk bytes | message | bulk
//
// The message is a flatbuffer (wire::Message or wire::Reply, rcuda.fbs). The
// bulk is raw data (memcpy contents, a fatbinary); the receiver reads it
// straight into its destination with Connection::ReadExact.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/status.h"
#include "protocol/rcuda_generated.h"
#include "protocol/transport.h"

namespace rcuda {

inline constexpr uint32_t kFrameMagic = 0x46554352;  // "RCUF" little-endian
inline constexpr uint32_t kMaxMessageBytes = 64u << 20;

struct FrameHeader {
  uint32_t magic;
  uint32_t message_bytes;
  uint64_t bulk_bytes;
};
static_assert(sizeof(FrameHeader) == 16);

// Writes one frame: header, message, then the bulk buffers, in one gathered
// write.
Status WriteFrame(Connection& connection, std::span<const uint8_t> message,
                  std::span<const ConstBuffer> bulk = {});

// Writes a frame whose bulk is `bulk_bytes` long but only partly known yet:
// the header, the message and `first` go now; the caller writes the rest of
// the bulk with Connection::WriteAll.
Status WriteFrameStart(Connection& connection, std::span<const uint8_t> message, uint64_t bulk_bytes,
                       ConstBuffer first);

// Reads a header and its message; checks magic and size limits. The caller
// reads (or discards) header->bulk_bytes afterwards. When the stream ends
// (or breaks) before a header, *peer_left is set: that is how a peer that
// closes its end between frames is told from one that sends garbage. A
// message larger than `max_message_bytes` is refused before anything is
// allocated for it (a peer not yet known gets a small limit).
// `allow_striped`: a frame whose bulk comes on the session's data streams
// (header->magic == kStripedFrameMagic, protocol/tcp_stripes.h) is accepted
// too; the caller then reads its bulk from there.
Status ReadFrame(Connection& connection, FrameHeader* header, std::vector<uint8_t>* message,
                 bool* peer_left = nullptr, uint32_t max_message_bytes = kMaxMessageBytes,
                 bool allow_striped = false);

// Reads and drops `bytes` of bulk data.
Status DiscardBulk(Connection& connection, uint64_t bytes);

// Verifies a received buffer as a wire::Message / wire::Reply; nullptr when
// malformed. A message whose request type names a table it does not carry
// (and a reply whose body type names a missing body) is malformed too: for
// a message this returns, request_as_X() is non-null when request_type() is
// X, so a handler chosen by the type always has its table. Every vector of
// 8-byte elements is aligned for them too, and `bytes` must start 8-byte
// aligned (a std::vector's data does).
const wire::Message* VerifiedMessage(std::span<const uint8_t> bytes);
const wire::Reply* VerifiedReply(std::span<const uint8_t> bytes);

}  // namespace rcuda
