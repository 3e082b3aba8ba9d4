// TLS against plain TCP under rcuda's frame workload (the one ucx_bench
// runs), without a GPU: a client and a server process over loopback; the
// server reads the TLS preamble, checks for the ClientHello and does the
// handshake on the socket as rcuda-server's daemon and worker do.
//   - round trip: a 16-byte header and a 48-byte message each way, p50/p99;
//   - upload: frames of 64 MiB of bulk from the client, read in 8 MiB chunks;
//   - download: 64 MiB answers written in 8 MiB chunks, read whole.
//
//   tls_bench tcp|tls PKI_DIR [--quick] [--pin]
//
// PKI_DIR holds ca.pem, server.pem and server.key (rcuda_tls_make_test_certs
// makes them; bench/micro/tls.sh runs it). Prints "METRIC <mode>_setup <ms>
// ms", "..._rt_p50 <us> us", "..._rt_p99", "..._upload <GB/s> GB/s",
// "..._download", and the negotiated protocol and cipher.
#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "protocol/frame.h"
#include "protocol/tcp_transport.h"
#include "protocol/tls/tls_client.h"
#include "protocol/tls/tls_preamble.h"
#include "protocol/tls/tls_server.h"

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
  if (sched_setaffinity(0, sizeof set, &set) != 0) std::perror("tls_bench: sched_setaffinity");
}

void Check(const Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "tls_bench: %s: %s\n", what, s.message().c_str());
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
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: tls_bench tcp|tls PKI_DIR [--quick] [--pin]\n");
    return 2;
  }
  const std::string name = argv[1], pki = argv[2];
  if (name != "tcp" && name != "tls") return 2;
  Plan plan;
  bool pin = false;
  for (int i = 3; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--quick")) plan = Plan{2000, 4};
    if (!std::strcmp(argv[i], "--pin")) pin = true;
  }
  std::unique_ptr<Listener> listener;
  Check(TcpListen("127.0.0.1", 0, &listener, /*read_ahead=*/false), "listen");
  const uint16_t port = listener->Port();
  pid_t server = fork();
  if (pin) Pin(server == 0 ? 1 : 0);
  if (server == 0) {
    std::unique_ptr<Connection> accepted, c;
    Check(listener->Accept(&accepted), "accept");
    FrameHeader header;
    std::vector<uint8_t> preamble;
    Check(ReadFrame(*accepted, &header, &preamble), "read preamble");
    int fd = fcntl(accepted->NativeHandle(), F_DUPFD_CLOEXEC, 0);
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    if (name == "tls") {
      Check(AwaitClientHello(fd, deadline), "ClientHello");
      accepted.reset();
      TlsServerOptions options{pki + "/server.pem", pki + "/server.key", ""};
      std::shared_ptr<const TlsContext> context;
      Check(TlsContext::ForServer(options, &context), "server context");
      std::unique_ptr<TlsConnection> tls;
      Check(TlsAccept(fd, context, deadline, &tls), "handshake");
      std::printf("# negotiated %s\n", tls->Negotiated().c_str());
      std::fflush(stdout);
      c = std::move(tls);
    } else {
      accepted.reset();
      Check(TcpAdopt(fd, &c), "adopt");  // with read-ahead, as a worker's
    }
    Check(Write(*c, "!", 1), "server write");
    Serve(*c, plan);
    _exit(0);
  }
  std::unique_ptr<Connection> c;
  const auto start = Clock::now();
  std::vector<uint8_t> preamble = TlsPreamble(0, "");
  if (name == "tls") {
    TlsClientOptions options;
    options.ca_file = pki + "/ca.pem";
    std::shared_ptr<const TlsContext> context;
    Check(TlsContext::ForClient(options, &context), "client context");
    Check(TlsConnect("127.0.0.1", port, context, preamble, TlsConnectOptions{}, &c), "connect");
  } else {
    Check(TcpConnect("127.0.0.1", port, TcpOptions{}, &c), "connect");
    Check(WriteFrame(*c, preamble), "preamble");
  }
  char bang;
  Check(c->ReadExact(&bang, 1), "read");
  // Connecting and the first answer, the handshake included.
  std::printf("METRIC %s_setup %.3f ms\n", name.c_str(),
              std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  Measure(*c, name, plan);
  int status = 0;
  waitpid(server, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
