// What the UCX transport's tests share: a connected pair set up as the
// daemon and a worker do it (accept, read the first bytes over the
// bootstrap socket, hand the socket over, adopt), other processes (the
// ucx_peer test equipment) and bounded waits for them.
#pragma once

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "protocol/adopt.h"
#include "protocol/ucx/ucx_transport.h"

extern char** environ;

namespace rcuda::ucx_test {

using Clock = std::chrono::steady_clock;

struct Pair {
  std::unique_ptr<Listener> listener;
  std::unique_ptr<Connection> client, server;
  int server_socket_copy = -1;  // a duplicate of the server's bootstrap socket, when asked for
  ~Pair() {
    if (server_socket_copy >= 0) close(server_socket_copy);
  }
};

// The daemon's part: accept, read the client's first bytes ("hello") over
// the bootstrap socket, then hand the socket on (here: to this process) and
// adopt it, which upgrades the connection. The client's first read awaits
// the upgrade; the server then says "!" so that the client's read returns.
inline void Connect(Pair* p, bool keep_socket_copy = false) {
  REQUIRE(UcxListen("127.0.0.1", 0, &p->listener).ok());
  Status served;
  std::thread serve([&] {
    std::unique_ptr<Connection> bootstrap;
    served = p->listener->Accept(&bootstrap);
    if (!served.ok()) return;
    char hello[5];
    served = bootstrap->ReadExact(hello, sizeof hello);
    if (!served.ok()) return;
    if (bootstrap->Kind() != "ucx" || bootstrap->HandoffHandles().size() != 1) {
      served = Status::Corruption("the accepted connection is not a UCX bootstrap");
      return;
    }
    int fd = dup(bootstrap->HandoffHandles()[0]);
    if (keep_socket_copy) p->server_socket_copy = dup(fd);
    bootstrap.reset();  // the daemon lets go of its copy
    served = AdoptConnection("ucx", {fd}, &p->server);
    if (!served.ok()) return;
    char bang = '!';
    ConstBuffer b{&bang, 1};
    served = p->server->WriteAll(std::span(&b, 1));
  });
  Status connected = UcxConnect("127.0.0.1", p->listener->Port(), UcxOptions{}, &p->client);
  if (connected.ok()) {
    char hello[5] = {'h', 'e', 'l', 'l', 'o'};
    ConstBuffer b{hello, sizeof hello};
    connected = p->client->WriteAll(std::span(&b, 1));
  }
  char bang = 0;
  if (connected.ok()) connected = p->client->ReadExact(&bang, 1);
  if (!connected.ok()) p->listener->Close();  // the server thread stops waiting
  serve.join();
  INFO("client: " << connected.message() << "; server: " << served.message());
  REQUIRE(connected.ok());
  REQUIRE(served.ok());
  REQUIRE(bang == '!');
}

// Waits for `pid` to end within `timeout` (a pidfd, no sleeping); its wait
// status, or -1 when it did not end.
inline int WaitPid(pid_t pid, std::chrono::milliseconds timeout) {
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd >= 0) {
    pollfd pfd{pidfd, POLLIN, 0};
    int ready = poll(&pfd, 1, static_cast<int>(timeout.count()));
    close(pidfd);
    if (ready <= 0) return -1;
  }
  int status = 0;
  return waitpid(pid, &status, 0) == pid ? status : -1;
}

// Starts the ucx_peer test equipment; `fd` (if >= 0) becomes its descriptor
// 3, and "3" replaces an argument "FD".
inline pid_t SpawnPeer(const std::string& mode, const std::string& arg, int fd = -1) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (fd >= 0) posix_spawn_file_actions_adddup2(&actions, fd, 3);
  std::vector<std::string> args = {UCX_PEER_PATH, mode, fd >= 0 ? "3" : arg};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, UCX_PEER_PATH, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  REQUIRE(rc == 0);
  return pid;
}

// Where two buffers first differ, or "equal" (CHECK(a == b) on megabytes
// would print them all).
inline std::string Difference(const std::vector<uint8_t>& got, const std::vector<uint8_t>& want) {
  if (got.size() != want.size()) return "sizes " + std::to_string(got.size()) + " and " + std::to_string(want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i] != want[i]) return "first difference at byte " + std::to_string(i) + " of " + std::to_string(got.size());
  }
  return "equal";
}

inline std::vector<uint8_t> RandomBytes(size_t n, uint64_t seed) {
  std::vector<uint8_t> v(n);
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (auto& b : v) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    b = static_cast<uint8_t>(x);
  }
  return v;
}

// What UCX_TLS asks for, so that a test can check the lanes follow it.
inline std::string RequestedTransports() {
  const char* v = std::getenv("UCX_TLS");
  return v ? v : "";
}

}  // namespace rcuda::ucx_test
