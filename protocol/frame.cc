#include "protocol/frame.h"

#include <algorithm>
#include <array>
#include "protocol/tcp_stripes.h"

namespace rcuda {

Status WriteFrame(Connection& connection, std::span<const uint8_t> message,
                  std::span<const ConstBuffer> bulk) {
  FrameHeader header{kFrameMagic, static_cast<uint32_t>(message.size()), 0};
  for (const auto& b : bulk) header.bulk_bytes += b.size;
  constexpr size_t kInline = 6;
  if (bulk.size() <= kInline) {
    std::array<ConstBuffer, 2 + kInline> parts;
    parts[0] = {&header, sizeof header};
    parts[1] = {message.data(), message.size()};
    std::copy(bulk.begin(), bulk.end(), parts.begin() + 2);
    return connection.WriteAll(std::span(parts.data(), 2 + bulk.size()));
  }
  std::vector<ConstBuffer> parts{{&header, sizeof header}, {message.data(), message.size()}};
  parts.insert(parts.end(), bulk.begin(), bulk.end());
  return connection.WriteAll(parts);
}

Status WriteFrameStart(Connection& connection, std::span<const uint8_t> message, uint64_t bulk_bytes,
                       ConstBuffer first) {
  FrameHeader header{kFrameMagic, static_cast<uint32_t>(message.size()), bulk_bytes};
  std::array<ConstBuffer, 3> parts{ConstBuffer{&header, sizeof header}, ConstBuffer{message.data(), message.size()},
                                   first};
  return connection.WriteAll(parts);
}

Status ReadFrame(Connection& connection, FrameHeader* header, std::vector<uint8_t>* message, bool* peer_left,
                 uint32_t max_message_bytes, bool allow_striped) {
  if (peer_left) *peer_left = false;
  // The first byte apart: a peer that closes between frames has left; one
  // that stops inside a header sent a truncated frame. (Both reads are
  // served from the connection's read-ahead buffer.)
  Status s = connection.ReadExact(header, 1);
  if (!s.ok()) {
    if (peer_left) *peer_left = true;
    return s;
  }
  s = connection.ReadExact(reinterpret_cast<char*>(header) + 1, sizeof *header - 1);
  if (!s.ok()) return Status::Corruption("truncated frame header from " + connection.PeerName() + ": " + s.message());
  if (header->magic != kFrameMagic && !(allow_striped && header->magic == kStripedFrameMagic)) {
    return Status::Corruption("bad frame magic from " + connection.PeerName());
  }
  if (header->message_bytes == 0 || header->message_bytes > std::min(max_message_bytes, kMaxMessageBytes)) {
    return Status::Corruption("frame message size " + std::to_string(header->message_bytes) + " out of range from " +
                              connection.PeerName());
  }
  message->resize(header->message_bytes);
  return connection.ReadExact(message->data(), message->size());
}

Status DiscardBulk(Connection& connection, uint64_t bytes) {
  std::array<char, 64 << 10> sink;
  while (bytes) {
    size_t n = std::min<uint64_t>(bytes, sink.size());
    RCUDA_RETURN_IF_ERROR(connection.ReadExact(sink.data(), n));
    bytes -= n;
  }
  return Status::Ok();
}

namespace {

// The flatbuffers verifier checks a vector's length word for 4-byte
// alignment and nothing more, so a hostile peer can place a vector of 8-byte
// scalars at 4 bytes past an 8-byte boundary: reading it is then undefined
// behaviour (the builder never writes one so). Every vector of 8-byte
// scalars in the schema (protocol/rcuda.fbs and the generated
// rcuda_ops.fbs) is checked here; lint.wire_wide_vectors
// fails when the schema gains one this file does not name.
template <class T>
bool ElementsAligned(const flatbuffers::Vector<T>* v) {
  return v == nullptr || reinterpret_cast<uintptr_t>(v->Data()) % alignof(T) == 0;
}

// The verifier checks alignment relative to the buffer's start, so the start
// itself must be aligned for the widest scalar (ReadFrame's vector is).
bool StartAligned(std::span<const uint8_t> bytes) {
  return reinterpret_cast<uintptr_t>(bytes.data()) % alignof(uint64_t) == 0;
}

}  // namespace

const wire::Message* VerifiedMessage(std::span<const uint8_t> bytes) {
  if (!StartAligned(bytes)) return nullptr;
  flatbuffers::Verifier verifier(bytes.data(), bytes.size());
  if (!verifier.VerifyBuffer<wire::Message>(nullptr)) return nullptr;
  const wire::Message* message = flatbuffers::GetRoot<wire::Message>(bytes.data());
  // The verifier accepts a union whose type is set and whose table is
  // absent; every request_as_X() of such a message is null. Refused here,
  // once, so that no handler has to remember.
  if (message->request_type() != wire::Request::NONE && message->request() == nullptr) return nullptr;
  // wide vector: Call.args
  if (const auto* call = message->request_as_Call(); call && !ElementsAligned(call->args())) return nullptr;
  // wide vector: LibraryCall.values
  if (const auto* call = message->request_as_LibraryCall(); call && !ElementsAligned(call->values())) return nullptr;
  return message;
}

const wire::Reply* VerifiedReply(std::span<const uint8_t> bytes) {
  if (!StartAligned(bytes)) return nullptr;
  flatbuffers::Verifier verifier(bytes.data(), bytes.size());
  if (!verifier.VerifyBuffer<wire::Reply>(nullptr)) return nullptr;
  const wire::Reply* reply = flatbuffers::GetRoot<wire::Reply>(bytes.data());
  if (reply->body_type() != wire::ReplyBody::NONE && reply->body() == nullptr) return nullptr;
  // wide vector: CallReply.values
  if (const auto* r = reply->body_as_CallReply(); r && !ElementsAligned(r->values())) return nullptr;
  // wide vector: LibraryCallReply.values
  if (const auto* r = reply->body_as_LibraryCallReply(); r && !ElementsAligned(r->values())) return nullptr;
  return reply;
}

}  // namespace rcuda
