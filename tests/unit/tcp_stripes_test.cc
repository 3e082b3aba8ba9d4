// protocol/tcp_stripes: a bulk striped over K loopback TCP connections
// arrives whole and in order whatever the sizes of the pieces either side
// moves, and a chunk out of place is refused.
#include <catch2/catch.hpp>

#include <cstring>
#include <thread>

#include "protocol/tcp_stripes.h"
#include "protocol/tcp_transport.h"

namespace rcuda {
namespace {

// K connected pairs over 127.0.0.1: *senders[i] talks to *receivers[i].
void Pairs(size_t k, std::vector<std::unique_ptr<Connection>>* senders,
           std::vector<std::unique_ptr<Connection>>* receivers) {
  std::unique_ptr<Listener> listener;
  REQUIRE(TcpListen("127.0.0.1", 0, &listener).ok());
  for (size_t i = 0; i < k; ++i) {
    std::unique_ptr<Connection> out, in;
    REQUIRE(TcpConnect("127.0.0.1", listener->Port(), TcpOptions{}, &out).ok());
    REQUIRE(listener->Accept(&in).ok());
    senders->push_back(std::move(out));
    receivers->push_back(std::move(in));
  }
  listener->Close();
}

std::vector<char> Pattern(size_t n, int seed) {
  std::vector<char> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<char>(i * 31 + seed + (i >> 16));
  return v;
}

}  // namespace

TEST_CASE("a striped bulk arrives whole and in order, in pieces of any size", "[tcp_stripes]") {
  for (size_t k : {1, 2, 3}) {
    INFO(k << " streams");
    std::vector<std::unique_ptr<Connection>> s, r;
    Pairs(k, &s, &r);
    TcpStripes sender(std::move(s)), receiver(std::move(r));
    for (int transfer = 0; transfer < 2; ++transfer) {
      // Not a multiple of the chunk size: the last chunk is short.
      const size_t total = 5 * kStripeChunkBytes + 777;
      const std::vector<char> data = Pattern(total, transfer);
      Status sent;  // Catch2's assertions belong to the test's thread
      std::thread send([&] {
        sent = sender.BeginSend(total);
        // Pieces that straddle chunks: 1 byte, a chunk and a half, the rest.
        size_t pieces[] = {1, kStripeChunkBytes + kStripeChunkBytes / 2, total - 1 - kStripeChunkBytes * 3 / 2};
        size_t at = 0;
        for (size_t n : pieces) {
          if (sent.ok()) sent = sender.Send(data.data() + at, n);
          at += n;
        }
        if (sent.ok()) sent = sender.EndSend();
      });
      std::vector<char> got(total, 0);
      REQUIRE(receiver.BeginReceive(total).ok());
      size_t at = 0;
      for (size_t n : {size_t{100000}, size_t{3 * kStripeChunkBytes}, total - 100000 - 3 * kStripeChunkBytes}) {
        REQUIRE(receiver.Receive(got.data() + at, n).ok());
        at += n;
      }
      CHECK_FALSE(receiver.Receive(got.data(), 1).ok());  // longer than announced
      send.join();
      CHECK(sent.ok());
      CHECK(receiver.EndReceive().ok());
      CHECK(got == data);
    }
  }
}

TEST_CASE("a striped chunk out of place is a protocol error", "[tcp_stripes]") {
  std::vector<std::unique_ptr<Connection>> s, r;
  Pairs(2, &s, &r);
  Connection* first = s[0].get();
  TcpStripes receiver(std::move(r));
  // Stream 1 must carry chunk 0 of transfer 1; it gets chunk 1's header.
  StripeChunkHeader bad{kStripeChunkMagic, static_cast<uint32_t>(kStripeChunkBytes), 1, kStripeChunkBytes};
  std::vector<char> bytes(sizeof bad + kStripeChunkBytes, 0);
  std::memcpy(bytes.data(), &bad, sizeof bad);
  ConstBuffer part{bytes.data(), bytes.size()};
  REQUIRE(first->WriteAll(std::span(&part, 1)).ok());
  std::vector<char> got(kStripeChunkBytes);
  REQUIRE(receiver.BeginReceive(2 * kStripeChunkBytes).ok());
  Status st = receiver.Receive(got.data(), got.size());
  CHECK(st.code() == Status::Code::kCorruption);
  CHECK(st.message().find("out of place") != std::string::npos);
}

}  // namespace rcuda
