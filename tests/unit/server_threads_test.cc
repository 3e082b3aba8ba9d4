// The daemon's and workers' own threads: the handshake deadline watch
// (server/deadline_watch.h), the capped wait pool (server/wait_pool.h), the
// session monitor (server/session_monitor.h), and handoffs that give up on
// a worker that does not take them (server/fd_passing.h).
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "protocol/frame.h"
#include "server/deadline_watch.h"
#include "server/fd_passing.h"
#include "server/session_monitor.h"
#include "server/wait_pool.h"
#include "socket_connection.h"

namespace rcuda {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

}  // namespace

TEST_CASE("a handshake past its deadline is shut down, a disarmed one is not", "[server_threads]") {
  DeadlineWatch watch;
  auto [a, b] = unit::SocketConnection::Pair();
  auto [c, d] = unit::SocketConnection::Pair();
  REQUIRE(a);
  REQUIRE(c);
  uint64_t late = watch.Arm(a.get(), Clock::now() + milliseconds(100));
  uint64_t kept = watch.Arm(c.get(), Clock::now() + milliseconds(100));
  CHECK_FALSE(watch.Disarm(kept));  // before its deadline
  auto start = Clock::now();
  char byte;
  // The read blocks until the watch shuts the connection down.
  CHECK_FALSE(a->ReadExact(&byte, 1).ok());
  CHECK(Clock::now() - start < std::chrono::seconds(5));
  CHECK(watch.Disarm(late));
  // The disarmed one still works.
  CHECK(d->WriteRaw("x", 1).ok());
  CHECK(c->ReadExact(&byte, 1).ok());
  CHECK(watch.armed() == 0);
}

TEST_CASE("a stopping daemon ends every pending handshake at once", "[server_threads]") {
  DeadlineWatch watch;
  auto [a, b] = unit::SocketConnection::Pair();
  uint64_t id = watch.Arm(a.get(), Clock::now() + std::chrono::hours(1));
  watch.ExpireAll();
  char byte;
  CHECK_FALSE(a->ReadExact(&byte, 1).ok());
  CHECK(watch.Disarm(id));
}

TEST_CASE("the wait pool starts at most its threads, then the caller waits itself", "[server_threads]") {
  WaitPool pool(2);
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::atomic<int> running{0}, finished{0};
  auto blocker = [&] {
    running.fetch_add(1);
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return release; });
    finished.fetch_add(1);
  };
  CHECK(pool.TryRun(blocker));
  CHECK(pool.TryRun(blocker));
  std::function<void()> third = blocker;
  CHECK_FALSE(pool.TryRun(std::move(third)));
  CHECK(third);  // not taken: the caller still has it
  CHECK(pool.threads() == 2);
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  // Idle threads take new work without new threads.
  auto deadline = Clock::now() + std::chrono::seconds(10);
  std::atomic<bool> ran{false};
  while (!ran.load() && Clock::now() < deadline) {
    if (running.load() == 2 && pool.TryRun([&] { ran = true; })) break;
    std::this_thread::sleep_for(milliseconds(5));
  }
  while (!ran.load() && Clock::now() < deadline) std::this_thread::sleep_for(milliseconds(5));
  CHECK(ran.load());
  CHECK(pool.threads() == 2);
  while (finished.load() < 2 && Clock::now() < deadline) std::this_thread::sleep_for(milliseconds(5));
  REQUIRE(finished.load() == 2);
}

TEST_CASE("an idle session is ended; a busy one is not", "[server_threads]") {
  auto [server, client] = unit::SocketConnection::Pair();
  SessionMonitor::Options options;
  options.idle_timeout = milliseconds(200);
  options.tick = milliseconds(20);
  std::atomic<bool> ended_process{false};
  SessionMonitor monitor(server.get(), options, [&] { ended_process = true; });
  monitor.Start();
  // Waiting for a reply of the wait pool: not idle, however long.
  monitor.Reading();
  monitor.WaitStarted();
  std::this_thread::sleep_for(milliseconds(400));
  CHECK_FALSE(monitor.ended_idle());
  monitor.WaitDone();
  char byte;
  auto start = Clock::now();
  CHECK_FALSE(server->ReadExact(&byte, 1).ok());  // shut down by the monitor
  CHECK(monitor.ended_idle());
  CHECK(Clock::now() - start < std::chrono::seconds(5));
  CHECK_FALSE(ended_process.load());
}

TEST_CASE("a session stuck after its client left ends its process", "[server_threads]") {
  auto [server, client] = unit::SocketConnection::Pair();
  SessionMonitor::Options options;
  options.gone_grace = milliseconds(200);
  options.tick = milliseconds(20);
  std::mutex mu;
  std::condition_variable cv;
  bool ended = false;
  SessionMonitor monitor(server.get(), options, [&] {
    std::lock_guard lock(mu);
    ended = true;
    cv.notify_all();
  });
  monitor.Start();
  monitor.Serving();  // the session thread is busy (on the GPU, say)
  std::this_thread::sleep_for(milliseconds(300));
  {
    std::lock_guard lock(mu);
    CHECK_FALSE(ended);  // the client is still there
  }
  client->Close();
  std::unique_lock lock(mu);
  CHECK(cv.wait_for(lock, std::chrono::seconds(5), [&] { return ended; }));
}

TEST_CASE("a handoff to a worker that takes none gives up in time", "[server_threads]") {
  int control[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, control) == 0);
  auto [conn, other] = unit::SocketConnection::Pair();
  Handoff handoff{"tcp", {conn->NativeHandle()}, "key", std::vector<uint8_t>(8000, 1)};
  // Nobody reads control[1]: its queue fills, then a send must give up.
  Status s;
  int sent = 0;
  auto start = Clock::now();
  while (sent < 100000 && (s = SendSession(control[0], handoff, milliseconds(200))).ok()) ++sent;
  CHECK_FALSE(s.ok());
  CHECK(sent > 0);
  CHECK(Clock::now() - start < std::chrono::seconds(30));
  close(control[0]);
  close(control[1]);
}

TEST_CASE("a handoff carries the lease account and its slot", "[server_threads]") {
  int control[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, control) == 0);
  auto [conn, other] = unit::SocketConnection::Pair();
  int lease[2];
  REQUIRE(pipe(lease) == 0);
  Handoff out{"tcp", {conn->NativeHandle()}, "key", {1, 2, 3}};
  out.lease_fd = lease[0];
  out.lease_slot = 7;
  REQUIRE(SendSession(control[0], out).ok());
  Handoff in;
  bool closed = false;
  REQUIRE(ReceiveSession(control[1], &in, &closed).ok());
  CHECK(in.fds.size() == 1);
  CHECK(in.lease_slot == 7);
  CHECK(in.lease_fd >= 0);
  CHECK(in.key == "key");
  CHECK(in.hello == std::vector<uint8_t>{1, 2, 3});
  // Without a lease: no extra descriptor.
  REQUIRE(SendSession(control[0], Handoff{"tcp", {conn->NativeHandle()}, "", {}}).ok());
  Handoff plain;
  REQUIRE(ReceiveSession(control[1], &plain, &closed).ok());
  CHECK(plain.fds.size() == 1);
  CHECK(plain.lease_fd == -1);
  for (int fd : in.fds) close(fd);
  for (int fd : plain.fds) close(fd);
  close(in.lease_fd);
  close(lease[0]);
  close(lease[1]);
  close(control[0]);
  close(control[1]);
}

}  // namespace rcuda
