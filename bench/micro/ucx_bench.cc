// rcuda's transports under one workload, without a GPU: a client and a
// server process (the server adopts its connection as a session worker
// does) exchange rcuda frames.
//   - round trip: a 16-byte header and a 48-byte message each way (a small
//     synchronous call), p50 and p99;
//   - upload: frames of 64 MiB of bulk from the client, which the server
//     reads in 8 MiB chunks (as a worker stages a host-to-device copy);
//   - download: the server answers with 64 MiB written in 8 MiB chunks, which
//     the client reads whole into its destination (a device-to-host copy).
//
//   ucx_bench ucx|shm|tcp [--quick] [--pin]
//
// --pin puts the client on CPU 0 and the server on CPU 1: on a small or busy
// host the scheduler tends to put a waker and the woken on one core, where
// a side that polls keeps its peer from running at all.
//
// Prints "METRIC <transport>_setup <ms> ms", "..._rt_p50 <us> us",
// "..._rt_p99", "..._upload <GB/s> GB/s" and "..._download". bench/micro/ucx.sh runs it next to
// ucx_perftest, on the same UCX_TLS, and prints the ratios.
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "protocol/adopt.h"
#include "protocol/shm_transport.h"
#include "protocol/tcp_transport.h"
#include "protocol/ucx/ucx_transport.h"

using namespace rcuda;
using Clock = std::chrono::steady_clock;

namespace {

constexpr size_t kSmall = 64;  // header + message of a small call
constexpr size_t kBulk = 64 << 20;
constexpr size_t kChunk = 8 << 20;  // the CUDA executor's staging chunk

struct Plan {
  int rounds = 20000;
  int bulk_frames = 16;
};

void Pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) std::perror("ucx_bench: sched_setaffinity");
}

void Check(const Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "ucx_bench: %s: %s\n", what, s.message().c_str());
    std::exit(1);
  }
}

Status Write(Connection& c, const void* data, size_t n) {
  ConstBuffer b{data, n};
  return c.WriteAll(std::span(&b, 1));
}

// The server's side of the workload (a worker's session loop, reduced).
void Serve(Connection& c, const Plan& plan) {
  std::vector<char> source(kBulk, 's'), chunk(kChunk, 0);
  char small[kSmall];
  for (int i = 0; i < plan.rounds; ++i) {
    Check(c.ReadExact(small, kSmall), "server read");
    Check(Write(c, small, kSmall), "server write");
  }
  for (int i = 0; i < plan.bulk_frames; ++i) {
    Check(c.ReadExact(small, kSmall), "server read");
    for (size_t at = 0; at < kBulk; at += kChunk) Check(c.ReadExact(chunk.data(), kChunk), "server read bulk");
  }
  Check(Write(c, small, 1), "server write");  // uploads done
  for (int i = 0; i < plan.bulk_frames; ++i) {
    Check(c.ReadExact(small, kSmall), "server read");
    ConstBuffer parts[2] = {{small, kSmall}, {source.data(), kChunk}};
    Check(c.WriteAll(parts), "server write");
    for (size_t at = kChunk; at < kBulk; at += kChunk) Check(Write(c, source.data() + at, kChunk), "server write");
  }
}

void Measure(Connection& c, const std::string& name, const Plan& plan) {
  char small[kSmall] = {};
  std::vector<double> rt;
  for (int i = 0; i < plan.rounds; ++i) {
    auto t = Clock::now();
    Check(Write(c, small, kSmall), "client write");
    Check(c.ReadExact(small, kSmall), "client read");
    rt.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t).count());
  }
  std::sort(rt.begin(), rt.end());
  std::printf("METRIC %s_rt_p50 %.3f us\n", name.c_str(), rt[rt.size() / 2]);
  std::printf("METRIC %s_rt_p99 %.3f us\n", name.c_str(), rt[rt.size() * 99 / 100]);
  std::vector<char> data(kBulk, 'c');
  auto t = Clock::now();
  for (int i = 0; i < plan.bulk_frames; ++i) {
    ConstBuffer parts[2] = {{small, kSmall}, {data.data(), data.size()}};
    Check(c.WriteAll(parts), "client write bulk");
  }
  Check(c.ReadExact(small, 1), "client read");
  double seconds = std::chrono::duration<double>(Clock::now() - t).count();
  std::printf("METRIC %s_upload %.3f GB/s\n", name.c_str(), plan.bulk_frames * double(kBulk) / seconds / 1e9);
  t = Clock::now();
  for (int i = 0; i < plan.bulk_frames; ++i) {
    Check(Write(c, small, kSmall), "client write");
    Check(c.ReadExact(small, kSmall), "client read");
    Check(c.ReadExact(data.data(), data.size()), "client read bulk");
  }
  seconds = std::chrono::duration<double>(Clock::now() - t).count();
  std::printf("METRIC %s_download %.3f GB/s\n", name.c_str(), plan.bulk_frames * double(kBulk) / seconds / 1e9);
  if (name == "ucx") std::printf("# UCX transports in use: %s\n", UcxTransportsInUse(c).c_str());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: ucx_bench ucx|shm|tcp [--quick] [--pin]\n");
    return 2;
  }
  const std::string name = argv[1];
  Plan plan;
  bool pin = false;
  for (int i = 2; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--quick")) plan = Plan{2000, 4};
    if (!std::strcmp(argv[i], "--pin")) pin = true;
  }
  std::unique_ptr<Listener> listener;
  const std::string shm_path = "/tmp/rcuda-ucx-bench-" + std::to_string(getpid()) + ".sock";
  if (name == "ucx") {
    Check(UcxListen("127.0.0.1", 0, &listener), "listen");
  } else if (name == "shm") {
    Check(ShmListen(shm_path, &listener), "listen");
  } else if (name == "tcp") {
    Check(TcpListen("127.0.0.1", 0, &listener), "listen");
  } else {
    return 2;
  }
  const uint16_t port = listener->Port();
  // The server forks before either side touches UCX, and adopts what it
  // accepted, as the daemon's worker does.
  pid_t server = fork();
  if (pin) Pin(server == 0 ? 1 : 0);
  if (server == 0) {
    std::unique_ptr<Connection> accepted, c;
    Check(listener->Accept(&accepted), "accept");
    char hello[5];
    Check(accepted->ReadExact(hello, 5), "read hello");
    std::vector<int> fds;
    for (int fd : accepted->HandoffHandles()) fds.push_back(dup(fd));
    std::string kind = accepted->Kind();
    accepted.reset();
    Check(AdoptConnection(kind, fds, &c), "adopt");
    Check(Write(*c, "!", 1), "server write");
    Serve(*c, plan);
    _exit(0);
  }
  // (The listener stays open here: closing it would shut the socket the
  // server accepts on.)
  std::unique_ptr<Connection> c;
  const auto start = Clock::now();
  if (name == "ucx") {
    Check(UcxConnect("127.0.0.1", port, UcxOptions{}, &c), "connect");
  } else if (name == "shm") {
    Check(ShmConnect(shm_path, &c), "connect");
  } else {
    Check(TcpConnect("127.0.0.1", port, TcpOptions{}, &c), "connect");
  }
  Check(Write(*c, "hello", 5), "write hello");
  char bang;
  Check(c->ReadExact(&bang, 1), "read");  // (UCX: the upgrade happens here)
  // Connecting and the first answer, the adoption included (UCX: both
  // sides' UCP context and worker, the address exchange, the wire-up).
  std::printf("METRIC %s_setup %.3f ms\n", name.c_str(),
              std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  Measure(*c, name, plan);
  int status = 0;
  waitpid(server, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
