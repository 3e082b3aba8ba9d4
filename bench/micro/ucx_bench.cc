// rcuda's transports under one workload (bench/micro/frame_workload.h),
// without a GPU: a client and a server process (the server adopts its
// connection as a session worker does) exchange rcuda frames.
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

#include "bench/micro/frame_workload.h"
#include "protocol/adopt.h"
#include "protocol/shm_transport.h"
#include "protocol/tcp_transport.h"
#include "protocol/ucx/ucx_transport.h"

using namespace rcuda;
using Clock = std::chrono::steady_clock;

namespace {

void Check(const Status& s, const char* what) { bench::CheckOrExit(s, "ucx_bench", what); }

void Measure(Connection& c, const std::string& name, const bench::FramePlan& plan) {
  bench::MeasureFrameWorkload(c, name, plan, "ucx_bench");
  if (name == "ucx") std::printf("# UCX transports in use: %s\n", UcxTransportsInUse(c).c_str());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: ucx_bench ucx|shm|tcp [--quick] [--pin]\n");
    return 2;
  }
  const std::string name = argv[1];
  bench::FramePlan plan;
  bool pin = false;
  for (int i = 2; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--quick")) plan = bench::FramePlan{2000, 4};
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
  if (pin) bench::PinToCpu(server == 0 ? 1 : 0, "ucx_bench");
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
    Check(bench::WriteBytes(*c, "!", 1), "server write");
    bench::ServeFrameWorkload(*c, plan, "ucx_bench");
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
  Check(bench::WriteBytes(*c, "hello", 5), "write hello");
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
