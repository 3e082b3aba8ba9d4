// The floors under rcuda's transports, measured in the same run as rcuda's
// figures: raw loopback TCP between two processes (TCP_NODELAY) and a
// single-threaded host memcpy. Prints "METRIC tcp_pingpong_p50 <us> us",
// "... _p99", "METRIC tcp_stream <GB/s> GB/s" and "METRIC memcpy <GB/s> GB/s".
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

void Full(ssize_t (*op)(int, void*, size_t), int fd, void* buf, size_t n) {
  char* p = static_cast<char*>(buf);
  while (n) {
    ssize_t r = op(fd, p, n);
    if (r <= 0) std::exit(1);
    p += r;
    n -= r;
  }
}
ssize_t Read(int fd, void* b, size_t n) { return read(fd, b, n); }
ssize_t Write(int fd, void* b, size_t n) { return write(fd, b, n); }

void Tune(int fd) {
  int one = 1, buf = 4 << 20;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = argc > 1 && !std::strcmp(argv[1], "--quick");
  int rounds = quick ? 2000 : 20000;
  size_t stream_bytes = (quick ? 256ull : 1024ull) << 20;
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  listen(listener, 1);
  std::vector<char> chunk(4 << 20);
  if (fork() == 0) {
    int fd = accept(listener, nullptr, nullptr);
    Tune(fd);
    char msg[64];
    for (int i = 0; i < rounds; ++i) {
      Full(Read, fd, msg, sizeof msg);
      Full(Write, fd, msg, sizeof msg);
    }
    for (size_t got = 0; got < stream_bytes; got += chunk.size()) Full(Read, fd, chunk.data(), chunk.size());
    Full(Write, fd, msg, 1);
    _exit(0);
  }
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  Tune(fd);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return 1;
  char msg[64] = {};
  std::vector<double> lat;
  for (int i = 0; i < rounds; ++i) {
    auto t = Clock::now();
    Full(Write, fd, msg, sizeof msg);
    Full(Read, fd, msg, sizeof msg);
    lat.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t).count());
  }
  std::sort(lat.begin(), lat.end());
  std::printf("METRIC tcp_pingpong_p50 %.3f us\n", lat[lat.size() / 2]);
  std::printf("METRIC tcp_pingpong_p99 %.3f us\n", lat[lat.size() * 99 / 100]);
  auto t = Clock::now();
  for (size_t sent = 0; sent < stream_bytes; sent += chunk.size()) Full(Write, fd, chunk.data(), chunk.size());
  Full(Read, fd, msg, 1);
  double s = std::chrono::duration<double>(Clock::now() - t).count();
  std::printf("METRIC tcp_stream %.3f GB/s\n", stream_bytes / s / 1e9);
  wait(nullptr);
  // Host memcpy, the floor of the shared-memory transport (which copies
  // each byte twice, once into the ring and once out of it).
  std::vector<char> from(256 << 20, 1), to(256 << 20, 0);
  double best = 0;
  for (int i = 0; i < 5; ++i) {
    auto t0 = Clock::now();
    std::memcpy(to.data(), from.data(), from.size());
    best = std::max(best, from.size() / std::chrono::duration<double>(Clock::now() - t0).count() / 1e9);
  }
  std::printf("METRIC memcpy %.3f GB/s\n", best + to[12345] * 0);
  return 0;
}
