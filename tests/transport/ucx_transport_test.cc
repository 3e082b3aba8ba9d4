// The UCX transport on its own, under whatever UCX_TLS the test runs with
// (CTest runs it with tcp and with sm,self): ordered bytes in pieces of any
// size, large transfers, both directions at once, many small messages, a
// reader and a writer thread on one connection, adoption in another
// process, and peers that die (SIGKILL) or shut down, which must give errors
// within a bound, never a hang.
#include <sys/socket.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>

#include "protocol/ucx/ucp_context.h"
#include "tests/transport/ucx_test_util.h"

namespace rcuda {
namespace {

using namespace ucx_test;

Status Write(Connection& c, const void* data, size_t n) {
  ConstBuffer b{data, n};
  return c.WriteAll(std::span(&b, 1));
}

}  // namespace

TEST_CASE("bytes cross in order, in pieces of any size", "[ucx]") {
  Pair p;
  Connect(&p);
  CHECK(p.server->Kind() == "ucx");
  CHECK(p.server->HandoffHandles().size() == 1);  // the bootstrap socket, now only the liveness signal
  // The lanes follow UCX_TLS.
  const std::string lanes = UcxTransportsInUse(*p.client);
  INFO("lanes: " << lanes << "; UCX_TLS=" << RequestedTransports());
  CHECK_FALSE(lanes.empty());
  if (RequestedTransports() == "tcp") CHECK(lanes.find("tcp/") != std::string::npos);
  if (RequestedTransports().rfind("sm", 0) == 0) CHECK(lanes.find("tcp") == std::string::npos);

  const std::vector<uint8_t> sent = RandomBytes(40 << 20, 1);
  std::thread writer([&] {
    uint64_t x = 3;
    for (size_t at = 0; at < sent.size();) {
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      size_t n = std::min<size_t>(sent.size() - at, 1 + (x >> 33) % (9 << 20));
      REQUIRE(Write(*p.client, sent.data() + at, n).ok());
      at += n;
    }
  });
  std::vector<uint8_t> got(sent.size());
  uint64_t y = 5;
  for (size_t at = 0; at < got.size();) {
    y = y * 6364136223846793005ull + 1442695040888963407ull;
    size_t n = std::min<size_t>(got.size() - at, 1 + (y >> 33) % (3 << 20));
    REQUIRE(p.server->ReadExact(got.data() + at, n).ok());
    at += n;
  }
  writer.join();
  CHECK(Difference(got, sent) == "equal");
}

TEST_CASE("a frame of small parts and a large payload, read as a session reads it", "[ucx]") {
  Pair p;
  Connect(&p);
  const std::vector<uint8_t> header = RandomBytes(16, 2), message = RandomBytes(200, 3);
  for (size_t bulk_bytes : {size_t{1}, size_t{15000}, size_t{70000}, size_t{4 << 20}, size_t{(64 << 20) + 3}}) {
    const std::vector<uint8_t> bulk = RandomBytes(bulk_bytes, bulk_bytes);
    ConstBuffer parts[3] = {
        {header.data(), header.size()}, {message.data(), message.size()}, {bulk.data(), bulk.size()}};
    std::thread writer([&] { REQUIRE(p.server->WriteAll(parts).ok()); });
    std::vector<uint8_t> h(16), m(200), b(bulk_bytes);
    REQUIRE(p.client->ReadExact(h.data(), 1).ok());
    REQUIRE(p.client->ReadExact(h.data() + 1, 15).ok());
    REQUIRE(p.client->ReadExact(m.data(), m.size()).ok());
    // The bulk in the worker's chunks (1 MiB: smaller than a fragment) or whole.
    const size_t chunk = bulk_bytes % 2 ? bulk_bytes : 1 << 20;
    for (size_t at = 0; at < b.size(); at += chunk) {
      REQUIRE(p.client->ReadExact(b.data() + at, std::min(chunk, b.size() - at)).ok());
    }
    writer.join();
    INFO("bulk of " << bulk_bytes << " bytes");
    CHECK(Difference(h, header) == "equal");
    CHECK(Difference(m, message) == "equal");
    CHECK(Difference(b, bulk) == "equal");
  }
}

TEST_CASE("both directions at once", "[ucx]") {
  Pair p;
  Connect(&p);
  const std::vector<uint8_t> a = RandomBytes(24 << 20, 4), b = RandomBytes(24 << 20, 5);
  std::vector<uint8_t> at_server(a.size()), at_client(b.size());
  std::thread t1([&] { REQUIRE(Write(*p.client, a.data(), a.size()).ok()); });
  std::thread t2([&] { REQUIRE(Write(*p.server, b.data(), b.size()).ok()); });
  std::thread t3([&] { REQUIRE(p.server->ReadExact(at_server.data(), at_server.size()).ok()); });
  REQUIRE(p.client->ReadExact(at_client.data(), at_client.size()).ok());
  t1.join();
  t2.join();
  t3.join();
  CHECK(Difference(at_server, a) == "equal");
  CHECK(Difference(at_client, b) == "equal");
}

TEST_CASE("many small messages, one at a time and pipelined", "[ucx]") {
  Pair p;
  Connect(&p);
  // Round trips: one message each way at a time.
  for (uint32_t i = 0; i < 3000; ++i) {
    REQUIRE(Write(*p.client, &i, sizeof i).ok());
    uint32_t got = 0;
    REQUIRE(p.server->ReadExact(&got, sizeof got).ok());
    REQUIRE(got == i);
    got = ~got;
    REQUIRE(Write(*p.server, &got, sizeof got).ok());
    uint32_t back = 0;
    REQUIRE(p.client->ReadExact(&back, sizeof back).ok());
    REQUIRE(back == ~i);
  }
  // Pipelined: 20000 messages of 1 to 300 bytes without waiting.
  const std::vector<uint8_t> all = RandomBytes(20000 * 300, 6);
  std::thread writer([&] {
    size_t at = 0;
    for (int i = 0; i < 20000; ++i) {
      uint16_t n = 1 + (i * 7919) % 300;
      ConstBuffer parts[2] = {{&n, sizeof n}, {all.data() + at, n}};
      REQUIRE(p.client->WriteAll(parts).ok());
      at += n;
    }
  });
  size_t at = 0;
  bool same = true;
  for (int i = 0; i < 20000; ++i) {
    uint16_t n = 0;
    REQUIRE(p.server->ReadExact(&n, sizeof n).ok());
    REQUIRE(n == 1 + (i * 7919) % 300);
    std::vector<uint8_t> m(n);
    REQUIRE(p.server->ReadExact(m.data(), n).ok());
    same = same && std::memcmp(m.data(), all.data() + at, n) == 0;
    at += n;
  }
  writer.join();
  CHECK(same);
}

// As a session worker runs: its main thread reads requests while another
// thread (the wait pool) writes replies on the same connection.
TEST_CASE("a reader and a writer thread on one connection", "[ucx]") {
  Pair p;
  Connect(&p);
  constexpr int kRequests = 2000;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<uint32_t> queue;
  std::thread server_reader([&] {
    for (int i = 0; i < kRequests; ++i) {
      uint32_t size = 0;
      REQUIRE(p.server->ReadExact(&size, sizeof size).ok());
      std::vector<char> body(size);
      REQUIRE(p.server->ReadExact(body.data(), size).ok());
      std::lock_guard lock(mu);
      queue.push_back(size);
      cv.notify_one();
    }
  });
  std::thread server_writer([&] {
    std::vector<uint8_t> reply = RandomBytes(3 << 20, 7);
    for (int i = 0; i < kRequests; ++i) {
      std::unique_lock lock(mu);
      REQUIRE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return !queue.empty(); }));
      uint32_t size = queue.front();
      queue.pop_front();
      lock.unlock();
      ConstBuffer parts[2] = {{&size, sizeof size}, {reply.data(), size}};
      REQUIRE(p.server->WriteAll(parts).ok());
    }
  });
  std::thread client_writer([&] {
    std::vector<char> body(3 << 20, 'q');
    for (uint32_t i = 0; i < kRequests; ++i) {
      uint32_t size = i % 100 == 99 ? (1u << 20) + i : i % 64;  // now and then a large one
      ConstBuffer parts[2] = {{&size, sizeof size}, {body.data(), size}};
      REQUIRE(p.client->WriteAll(parts).ok());
    }
  });
  std::vector<uint8_t> reply = RandomBytes(3 << 20, 7);
  std::vector<char> got(3 << 20);
  bool same = true;
  for (uint32_t i = 0; i < kRequests; ++i) {
    uint32_t size = 0;
    REQUIRE(p.client->ReadExact(&size, sizeof size).ok());
    REQUIRE(size == (i % 100 == 99 ? (1u << 20) + i : i % 64));
    REQUIRE(p.client->ReadExact(got.data(), size).ok());
    same = same && std::memcmp(got.data(), reply.data(), size) == 0;
  }
  client_writer.join();
  server_reader.join();
  server_writer.join();
  CHECK(same);
}

TEST_CASE("a worker in another process adopts the connection", "[ucx][process]") {
  std::unique_ptr<Listener> listener;
  REQUIRE(UcxListen("127.0.0.1", 0, &listener).ok());
  std::unique_ptr<Connection> client, bootstrap;
  REQUIRE(UcxConnect("127.0.0.1", listener->Port(), UcxOptions{}, &client).ok());
  REQUIRE(Write(*client, "hello", 5).ok());
  REQUIRE(listener->Accept(&bootstrap).ok());
  char hello[5];
  REQUIRE(bootstrap->ReadExact(hello, 5).ok());
  CHECK(std::string(hello, 5) == "hello");
  const pid_t peer = SpawnPeer("adopt-echo", "FD", bootstrap->HandoffHandles()[0]);
  bootstrap.reset();  // as the daemon does once the worker has the socket
  // The client's first read takes the worker's upgrade, then its "R".
  char ready = 0;
  REQUIRE(client->ReadExact(&ready, 1).ok());
  REQUIRE(ready == 'R');
  const std::vector<uint8_t> data = RandomBytes(9 << 20, 8);
  for (uint32_t n : {1u, 100u, 20000u, 9u << 20}) {
    ConstBuffer parts[2] = {{&n, sizeof n}, {data.data(), n}};
    REQUIRE(client->WriteAll(parts).ok());
    uint32_t echoed = 0;
    std::vector<uint8_t> back(n);
    REQUIRE(client->ReadExact(&echoed, sizeof echoed).ok());
    REQUIRE(echoed == n);
    REQUIRE(client->ReadExact(back.data(), n).ok());
    CHECK(std::memcmp(back.data(), data.data(), n) == 0);
  }
  CHECK_FALSE(UcxTransportsInUse(*client).empty());
  uint32_t zero = 0;
  REQUIRE(Write(*client, &zero, sizeof zero).ok());
  int status = WaitPid(peer, std::chrono::seconds(20));
  REQUIRE(status != -1);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  // The peer closed cleanly: end of stream, at once.
  auto start = Clock::now();
  char byte;
  Status s = client->ReadExact(&byte, 1);
  CHECK_FALSE(s.ok());
  CHECK(Clock::now() - start < std::chrono::seconds(3));
}

TEST_CASE("a writer to a worker killed mid-copy gets an error", "[ucx][process]") {
  std::unique_ptr<Listener> listener;
  REQUIRE(UcxListen("127.0.0.1", 0, &listener).ok());
  std::unique_ptr<Connection> client, bootstrap;
  REQUIRE(UcxConnect("127.0.0.1", listener->Port(), UcxOptions{}, &client).ok());
  REQUIRE(Write(*client, "hello", 5).ok());
  REQUIRE(listener->Accept(&bootstrap).ok());
  char hello[5];
  REQUIRE(bootstrap->ReadExact(hello, 5).ok());
  const pid_t peer = SpawnPeer("adopt-sink", "FD", bootstrap->HandoffHandles()[0]);
  bootstrap.reset();
  char ready = 0;
  REQUIRE(client->ReadExact(&ready, 1).ok());
  REQUIRE(ready == 'R');
  // A writer busy with 256 MiB while the peer dies.
  std::vector<char> big(256 << 20, 'z');
  std::atomic<bool> finished{false};
  Status written;
  std::thread writer([&] {
    written = Write(*client, big.data(), big.size());
    finished = true;
  });
  // Once the copy is under way (the peer says so 16 MiB in), kill it.
  char mid = 0;
  REQUIRE(client->ReadExact(&mid, 1).ok());
  REQUIRE(mid == 'M');
  kill(peer, SIGKILL);
  REQUIRE(WaitPid(peer, std::chrono::seconds(10)) != -1);
  auto killed = Clock::now();
  writer.join();
  CHECK(finished);
  CHECK_FALSE(written.ok());
  CHECK(Clock::now() - killed < std::chrono::seconds(5));
  // And every later call fails too, at once.
  char byte;
  CHECK_FALSE(client->ReadExact(&byte, 1).ok());
  CHECK_FALSE(Write(*client, "x", 1).ok());
}

TEST_CASE("a reader from a client killed mid-copy gets an error", "[ucx][process]") {
  std::unique_ptr<Listener> listener;
  REQUIRE(UcxListen("127.0.0.1", 0, &listener).ok());
  const pid_t peer = SpawnPeer("connect-source", std::to_string(listener->Port()));
  std::unique_ptr<Connection> bootstrap, server;
  REQUIRE(listener->Accept(&bootstrap).ok());
  char hello[5];
  REQUIRE(bootstrap->ReadExact(hello, 5).ok());
  REQUIRE(AdoptConnection("ucx", {dup(bootstrap->HandoffHandles()[0])}, &server).ok());
  bootstrap.reset();
  REQUIRE(Write(*server, "!", 1).ok());
  char ready = 0;
  REQUIRE(server->ReadExact(&ready, 1).ok());
  REQUIRE(ready == 'R');
  std::vector<char> sink(1 << 20);
  for (int i = 0; i < 16; ++i) REQUIRE(server->ReadExact(sink.data(), sink.size()).ok());  // mid-copy now
  kill(peer, SIGKILL);
  REQUIRE(WaitPid(peer, std::chrono::seconds(10)) != -1);
  auto killed = Clock::now();
  Status s;
  // What it sent before dying may still be read; then the error comes.
  for (int i = 0; i < 4096 && s.ok(); ++i) s = server->ReadExact(sink.data(), sink.size());
  CHECK_FALSE(s.ok());
  CHECK(Clock::now() - killed < std::chrono::seconds(5));
}

TEST_CASE("a clean close ends the peer's stream at once", "[ucx]") {
  Pair p;
  Connect(&p);
  REQUIRE(Write(*p.client, "last", 4).ok());
  p.client.reset();
  char last[4];
  REQUIRE(p.server->ReadExact(last, 4).ok());  // what came before the close arrives
  CHECK(std::string(last, 4) == "last");
  auto start = Clock::now();
  Status s = p.server->ReadExact(last, 1);
  CHECK_FALSE(s.ok());
  CHECK(s.message().find("closed") != std::string::npos);
  CHECK(Clock::now() - start < std::chrono::seconds(2));
  CHECK_FALSE(Write(*p.server, "x", 1).ok());
}

TEST_CASE("Shutdown unblocks a blocked reader and a blocked writer", "[ucx]") {
  Pair p;
  Connect(&p);
  Status read, written;
  std::thread reader([&] {
    char byte;
    read = p.server->ReadExact(&byte, 1);
  });
  std::vector<char> big(64 << 20, 'w');
  std::thread writer([&] { written = Write(*p.server, big.data(), big.size()); });  // nobody reads it
  // Both are blocked: the reader has nothing to read, the writer no reader.
  p.server->Shutdown();
  auto start = Clock::now();
  reader.join();
  writer.join();
  CHECK_FALSE(read.ok());
  CHECK_FALSE(written.ok());
  CHECK(Clock::now() - start < std::chrono::seconds(3));
  // The peer learns of it too.
  char byte;
  CHECK_FALSE(p.client->ReadExact(&byte, 1).ok());
}

TEST_CASE("the bootstrap socket's end is the peer's end", "[ucx]") {
  Pair p;
  Connect(&p);
  REQUIRE(Write(*p.client, "ab", 2).ok());
  // What a client whose process ends does to the socket (tests half-close
  // it through NativeHandle, as the fault tests do over TCP).
  REQUIRE(p.client->NativeHandle() >= 0);
  REQUIRE(shutdown(p.client->NativeHandle(), SHUT_WR) == 0);
  char got[2];
  REQUIRE(p.server->ReadExact(got, 2).ok());  // what came before still arrives
  CHECK(std::string(got, 2) == "ab");
  auto start = Clock::now();
  CHECK_FALSE(p.server->ReadExact(got, 1).ok());
  CHECK(Clock::now() - start < std::chrono::seconds(3));
}

// A program that forks: the child's copy of the connection (destroyed there,
// or abandoned) must leave the parent's session alone.
TEST_CASE("a forked child's copy does not end the parent's session", "[ucx]") {
  Pair p;
  Connect(&p);
  pid_t child = fork();
  if (child == 0) {
    delete p.client.release();  // in the child: closes descriptors, touches no UCX state
    _exit(0);
  }
  REQUIRE(child > 0);
  int status = WaitPid(child, std::chrono::seconds(10));
  REQUIRE(status != -1);
  REQUIRE(WIFEXITED(status));
  for (int i = 0; i < 3; ++i) {
    REQUIRE(Write(*p.client, "ping", 4).ok());
    char got[4];
    REQUIRE(p.server->ReadExact(got, 4).ok());
    CHECK(std::string(got, 4) == "ping");
    REQUIRE(Write(*p.server, "pong", 4).ok());
    REQUIRE(p.client->ReadExact(got, 4).ok());
    CHECK(std::string(got, 4) == "pong");
  }
}

TEST_CASE("connecting to no server is an error, not a wait", "[ucx]") {
  std::unique_ptr<Listener> listener;
  REQUIRE(UcxListen("127.0.0.1", 0, &listener).ok());
  uint16_t port = listener->Port();
  listener.reset();  // nobody listens there now
  std::unique_ptr<Connection> c;
  UcxOptions options;
  options.connect_timeout = std::chrono::milliseconds(2000);
  CHECK_FALSE(UcxConnect("127.0.0.1", port, options, &c).ok());
  CHECK_FALSE(AdoptConnection("ucx", {}, &c).ok());
  int pipe_fds[2];
  REQUIRE(pipe(pipe_fds) == 0);
  close(pipe_fds[1]);
  CHECK_FALSE(AdoptConnection("ucx", {pipe_fds[0]}, &c).ok());  // not a socket
}

TEST_CASE("a worker made ahead is the one the next adoption uses", "[ucx]") {
  // What a warm session worker does before its session (UcxPrepareAdoption).
  REQUIRE(UcxPrepareAdoption().ok());
  REQUIRE(UcxPrepareAdoption().ok());  // one is kept, not two
  Pair p;
  Connect(&p);  // adopts in this process
  CHECK(ucx::TakePreparedWorker() == nullptr);  // taken by the adoption
  REQUIRE(Write(*p.client, "ping", 4).ok());
  char got[4];
  REQUIRE(p.server->ReadExact(got, 4).ok());
  CHECK(std::string(got, 4) == "ping");
}

}  // namespace rcuda
