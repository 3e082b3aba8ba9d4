// The floor under striped TCP (protocol/tcp_stripes.h), measured in the same
// run as rcuda's figures: `bytes` sent over K parallel raw loopback TCP
// streams between two processes, one thread per stream on each side, as
// rcuda's client and worker move a striped bulk.
//
//   tcp_streams_baseline <K> <MiB> [repetitions]
//
// Prints "METRIC raw_tcp_<K> <GB/s> GB/s" (the median of the repetitions;
// the clock runs from the first byte sent to the receiver's last byte).
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
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

void Tune(int fd) {
  int one = 1, buf = 4 << 20;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
}

void Full(bool send, int fd, char* p, size_t n) {
  while (n) {
    ssize_t r = send ? write(fd, p, n) : read(fd, p, n);
    if (r <= 0) std::exit(1);
    p += r;
    n -= static_cast<size_t>(r);
  }
}

// Moves `bytes` over the streams, stream i carrying the i-th share, in
// pieces of 4 MiB (rcuda's largest staging piece).
void Move(bool send, const std::vector<int>& fds, std::vector<char>& buffer) {
  const size_t share = buffer.size() / fds.size();
  std::vector<std::thread> threads;
  for (size_t i = 0; i < fds.size(); ++i) {
    threads.emplace_back([&, i] {
      char* base = buffer.data() + i * share;
      for (size_t done = 0; done < share;) {
        size_t n = std::min<size_t>(share - done, 4 << 20);
        Full(send, fds[i], base + done, n);
        done += n;
      }
    });
  }
  for (auto& t : threads) t.join();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: tcp_streams_baseline <K> <MiB> [repetitions]\n");
    return 2;
  }
  const int k = std::max(1, std::atoi(argv[1]));
  const size_t bytes = static_cast<size_t>(std::atoi(argv[2])) << 20;
  const int reps = argc > 3 ? std::max(1, std::atoi(argv[3])) : 5;
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  listen(listener, k);
  std::vector<char> buffer(bytes / k * k, 1);
  pid_t child = fork();
  if (child == 0) {  // the receiver
    std::vector<int> fds;
    for (int i = 0; i < k; ++i) {
      fds.push_back(accept(listener, nullptr, nullptr));
      Tune(fds.back());
    }
    char ack = 0;
    for (int r = 0; r < reps; ++r) {
      Move(false, fds, buffer);
      Full(true, fds[0], &ack, 1);
    }
    _exit(0);
  }
  std::vector<int> fds;
  for (int i = 0; i < k; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    Tune(fd);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return 1;
    fds.push_back(fd);
  }
  std::vector<double> rates;
  char ack;
  for (int r = 0; r < reps; ++r) {
    auto t = Clock::now();
    Move(true, fds, buffer);
    Full(false, fds[0], &ack, 1);
    rates.push_back(buffer.size() / std::chrono::duration<double>(Clock::now() - t).count() / 1e9);
  }
  waitpid(child, nullptr, 0);
  std::sort(rates.begin(), rates.end());
  std::printf("METRIC raw_tcp_%d %.3f GB/s\n", k, rates[rates.size() / 2]);
  return 0;
}
