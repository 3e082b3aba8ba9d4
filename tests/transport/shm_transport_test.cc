// The shared-memory transport on its own: framing through the rings,
// transfers much larger than a ring, both directions at once, and a peer
// that dies (a forked child killed with SIGKILL) is noticed, not waited for.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <numeric>
#include <random>
#include <thread>

#include "protocol/shm_transport.h"

namespace rcuda {
namespace {

std::string TestSocket() {
  return "/tmp/rcuda-shm-test-" + std::to_string(getpid()) + "-" +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()) + ".sock";
}

struct Pair {
  std::unique_ptr<Listener> listener;
  std::unique_ptr<Connection> client, server;
};

Pair Connected() {
  Pair p;
  std::string path = TestSocket();
  REQUIRE(ShmListen(path, &p.listener).ok());
  std::thread accept([&] { REQUIRE(p.listener->Accept(&p.server).ok()); });
  REQUIRE(ShmConnect(path, &p.client).ok());
  accept.join();
  return p;
}

// Where two buffers first differ and how many elements differ, or "equal":
// comparing megabytes with CHECK(a == b) would print them all on failure.
template <class T>
std::string Difference(const std::vector<T>& got, const std::vector<T>& want) {
  if (got.size() != want.size()) return "sizes " + std::to_string(got.size()) + " and " + std::to_string(want.size());
  size_t first = got.size(), count = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i] != want[i]) {
      if (count++ == 0) first = i;
    }
  }
  if (count == 0) return "equal";
  return std::to_string(count) + " elements differ, the first at index " + std::to_string(first) + " of " +
         std::to_string(got.size());
}

}  // namespace

TEST_CASE("bytes cross in order, in pieces of any size", "[shm]") {
  Pair p = Connected();
  std::mt19937_64 rng(7);
  std::vector<uint8_t> sent(40 << 20);  // five times a ring
  for (auto& b : sent) b = static_cast<uint8_t>(rng());
  std::thread writer([&] {
    size_t at = 0;
    while (at < sent.size()) {
      size_t n = std::min<size_t>(sent.size() - at, 1 + rng() % (3 << 20));
      ConstBuffer b{sent.data() + at, n};
      REQUIRE(p.client->WriteAll(std::span(&b, 1)).ok());
      at += n;
    }
  });
  std::vector<uint8_t> got(sent.size());
  size_t at = 0;
  std::mt19937_64 rng2(8);
  while (at < got.size()) {
    size_t n = std::min<size_t>(got.size() - at, 1 + rng2() % (1 << 20));
    REQUIRE(p.server->ReadExact(got.data() + at, n).ok());
    at += n;
  }
  writer.join();
  CHECK(Difference(got, sent) == "equal");
  CHECK(p.server->Kind() == "shm");
  CHECK(p.server->HandoffHandles().size() == 2);
}

// Sizes that a split into 2, 3 or 4 equal parts of whole cache lines would
// leave a few bytes short of (n / parts a multiple of 64, n % parts > 0):
// with RCUDA_SHM_COPY_THREADS set (transport.shm.copy_threads) each write
// and read below is one split copy, the ring being empty or full of it.
TEST_CASE("large copies split across copy threads keep every byte", "[shm][copy-threads]") {
  Pair p = Connected();
  std::mt19937_64 rng(11);
  for (size_t n : {size_t{524289}, size_t{524291}, size_t{786433}, size_t{786434}, size_t{1048577},
                   size_t{1048579}, size_t{2097151}}) {
    std::vector<uint8_t> sent(n), got(n, 0);
    for (auto& b : sent) b = static_cast<uint8_t>(rng() | 1);  // no zero bytes: a missed byte shows
    ConstBuffer b{sent.data(), n};
    REQUIRE(p.client->WriteAll(std::span(&b, 1)).ok());
    REQUIRE(p.server->ReadExact(got.data(), n).ok());
    INFO("a copy of " << n << " bytes");
    CHECK(Difference(got, sent) == "equal");
  }
}

TEST_CASE("both directions at once", "[shm]") {
  Pair p = Connected();
  std::vector<uint32_t> a(3 << 20), b(3 << 20);
  std::iota(a.begin(), a.end(), 1u);
  std::iota(b.begin(), b.end(), 7u);
  auto pump = [](Connection* out, Connection* in, const std::vector<uint32_t>& send, std::vector<uint32_t>* recv) {
    std::thread w([&] {
      ConstBuffer buf{send.data(), send.size() * 4};
      REQUIRE(out->WriteAll(std::span(&buf, 1)).ok());
    });
    recv->resize(send.size());
    REQUIRE(in->ReadExact(recv->data(), recv->size() * 4).ok());
    w.join();
  };
  std::vector<uint32_t> at_server, at_client;
  std::thread t([&] { pump(p.client.get(), p.server.get(), a, &at_server); });
  pump(p.server.get(), p.client.get(), b, &at_client);
  t.join();
  CHECK(Difference(at_server, a) == "equal");
  CHECK(Difference(at_client, b) == "equal");
}

TEST_CASE("a reader notices a peer that died", "[shm]") {
  std::string path = TestSocket();
  std::unique_ptr<Listener> listener;
  REQUIRE(ShmListen(path, &listener).ok());
  pid_t child = fork();
  if (child == 0) {
    std::unique_ptr<Connection> c;
    if (!ShmConnect(path, &c).ok()) _exit(1);
    char byte = 1;
    ConstBuffer b{&byte, 1};
    c->WriteAll(std::span(&b, 1));
    pause();  // until killed
    _exit(0);
  }
  std::unique_ptr<Connection> server;
  REQUIRE(listener->Accept(&server).ok());
  char byte = 0;
  REQUIRE(server->ReadExact(&byte, 1).ok());
  CHECK(byte == 1);
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  auto start = std::chrono::steady_clock::now();
  CHECK_FALSE(server->ReadExact(&byte, 1).ok());
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
}

TEST_CASE("a client of a server that is not there gets an error", "[shm]") {
  std::unique_ptr<Connection> c;
  CHECK_FALSE(ShmConnect("/tmp/rcuda-no-such-server.sock", &c).ok());
}

}  // namespace rcuda
