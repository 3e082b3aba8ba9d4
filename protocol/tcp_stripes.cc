#include "protocol/tcp_stripes.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <thread>

#include "protocol/frame.h"

namespace rcuda {

Status WriteStripedFrameStart(Connection& control, std::span<const uint8_t> message, uint64_t bulk_bytes) {
  FrameHeader header{kStripedFrameMagic, static_cast<uint32_t>(message.size()), bulk_bytes};
  std::array<ConstBuffer, 2> parts{ConstBuffer{&header, sizeof header}, ConstBuffer{message.data(), message.size()}};
  return control.WriteAll(parts);
}

TcpStripes::TcpStripes(std::vector<std::unique_ptr<Connection>> connections)
    : connections_(std::move(connections)) {}

TcpStripes::~TcpStripes() {
  if (abandoned_) {
    for (auto& c : connections_) (void)c.release();
  }
}

void TcpStripes::Shutdown() {
  for (auto& c : connections_) c->Shutdown();
}

void TcpStripes::Abandon() {
  for (auto& c : connections_)
    for (int fd : c->HandoffHandles()) close(fd);
  abandoned_ = true;
}

Status TcpStripes::BeginSend(uint64_t total) {
  if (send_.active) return Status::InvalidValue("a striped send is in progress");
  send_ = Transfer{send_.counter + 1, total, 0, true};
  return Status::Ok();
}

Status TcpStripes::Send(const void* data, size_t size) {
  return Move(send_, const_cast<char*>(static_cast<const char*>(data)), size, /*send=*/true);
}

Status TcpStripes::EndSend() {
  send_.active = false;
  if (send_.position != send_.total) return Status::InvalidValue("striped send ended short of its size");
  return Status::Ok();
}

Status TcpStripes::SendAll(std::span<const ConstBuffer> bulk) {
  uint64_t total = 0;
  for (const auto& b : bulk) total += b.size;
  RCUDA_RETURN_IF_ERROR(BeginSend(total));
  for (const auto& b : bulk) {
    Status s = Send(b.data, b.size);
    if (!s.ok()) {
      send_.active = false;
      return s;
    }
  }
  return EndSend();
}

Status TcpStripes::BeginReceive(uint64_t total) {
  if (receive_.active) return Status::InvalidValue("a striped receive is in progress");
  receive_ = Transfer{receive_.counter + 1, total, 0, true};
  return Status::Ok();
}

Status TcpStripes::Receive(void* data, size_t size) {
  return Move(receive_, static_cast<char*>(data), size, /*send=*/false);
}

Status TcpStripes::Discard(uint64_t size) {
  std::vector<char> sink(std::min<uint64_t>(size, 4 << 20));
  while (size) {
    size_t n = std::min<uint64_t>(size, sink.size());
    RCUDA_RETURN_IF_ERROR(Receive(sink.data(), n));
    size -= n;
  }
  return Status::Ok();
}

Status TcpStripes::EndReceive() {
  receive_.active = false;
  if (receive_.position != receive_.total) {
    return Status::Corruption("striped bulk read short of its size");
  }
  return Status::Ok();
}

Status TcpStripes::Move(Transfer& transfer, char* buffer, size_t size, bool send) {
  if (!transfer.active) return Status::InvalidValue("no striped transfer in progress");
  if (size > transfer.total - transfer.position) {
    return Status::Corruption("striped bulk longer than announced");
  }
  if (size == 0) return Status::Ok();
  const size_t stripes = connections_.size();
  const uint64_t first_chunk = transfer.position / kStripeChunkBytes;
  const uint64_t last_chunk = (transfer.position + size - 1) / kStripeChunkBytes;
  const size_t involved = static_cast<size_t>(std::min<uint64_t>(stripes, last_chunk - first_chunk + 1));
  std::vector<Status> results(involved);
  if (involved == 1) {
    results[0] = MoveOnStripe(first_chunk % stripes, transfer, buffer, size, send);
  } else {
    // One thread per stripe: each moves its chunks in order, straight
    // between `buffer` and its socket.
    std::vector<std::thread> threads;
    threads.reserve(involved - 1);
    for (size_t i = 1; i < involved; ++i) {
      threads.emplace_back([&, i] {
        results[i] = MoveOnStripe((first_chunk + i) % stripes, transfer, buffer, size, send);
        if (!results[i].ok()) Shutdown();  // unblocks the other stripes
      });
    }
    results[0] = MoveOnStripe(first_chunk % stripes, transfer, buffer, size, send);
    if (!results[0].ok()) Shutdown();
    for (auto& t : threads) t.join();
  }
  for (const Status& s : results) {
    if (!s.ok()) {
      Shutdown();
      transfer.active = false;
      return s;
    }
  }
  transfer.position += size;
  return Status::Ok();
}

Status TcpStripes::MoveOnStripe(size_t stripe, const Transfer& transfer, char* buffer, size_t size, bool send) {
  Connection& c = *connections_[stripe];
  const size_t stripes = connections_.size();
  const uint64_t begin = transfer.position, end = transfer.position + size;
  uint64_t chunk = begin / kStripeChunkBytes;
  chunk += (stripe + stripes - chunk % stripes) % stripes;  // this stripe's first chunk in range
  for (; chunk * kStripeChunkBytes < end; chunk += stripes) {
    const uint64_t chunk_start = chunk * kStripeChunkBytes;
    const uint64_t chunk_bytes = std::min<uint64_t>(kStripeChunkBytes, transfer.total - chunk_start);
    const uint64_t from = std::max(begin, chunk_start), to = std::min(end, chunk_start + chunk_bytes);
    char* piece = buffer + (from - begin);
    const StripeChunkHeader expected{kStripeChunkMagic, static_cast<uint32_t>(chunk_bytes), transfer.counter,
                                     chunk_start};
    if (send) {
      std::array<ConstBuffer, 2> parts{ConstBuffer{&expected, from == chunk_start ? sizeof expected : 0},
                                       ConstBuffer{piece, static_cast<size_t>(to - from)}};
      RCUDA_RETURN_IF_ERROR(c.WriteAll(parts));
      continue;
    }
    if (from == chunk_start) {
      StripeChunkHeader got{};
      RCUDA_RETURN_IF_ERROR(c.ReadExact(&got, sizeof got));
      if (got.magic != expected.magic || got.bytes != expected.bytes || got.transfer != expected.transfer ||
          got.offset != expected.offset) {
        return Status::Corruption("striped chunk out of place on data stream " + std::to_string(stripe + 1) +
                                  " from " + c.PeerName() + " (offset " + std::to_string(got.offset) + ", " +
                                  std::to_string(got.bytes) + " bytes, transfer " + std::to_string(got.transfer) +
                                  "; expected offset " + std::to_string(expected.offset) + ", " +
                                  std::to_string(expected.bytes) + " bytes, transfer " +
                                  std::to_string(expected.transfer) + ")");
      }
    }
    RCUDA_RETURN_IF_ERROR(c.ReadExact(piece, static_cast<size_t>(to - from)));
  }
  return Status::Ok();
}

}  // namespace rcuda
