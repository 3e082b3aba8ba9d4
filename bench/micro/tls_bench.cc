// TLS against plain TCP under rcuda's frame workload (the one ucx_bench
// runs), without a GPU: a client and a server process over loopback; the
// server reads the TLS preamble, checks for the ClientHello and does the
// handshake on the socket as rcuda-server's daemon and worker do. The
// workload: bench/micro/frame_workload.h.
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

#include "bench/micro/frame_workload.h"
#include "protocol/frame.h"
#include "protocol/tcp_transport.h"
#include "protocol/tls/tls_client.h"
#include "protocol/tls/tls_preamble.h"
#include "protocol/tls/tls_server.h"

using namespace rcuda;
using Clock = std::chrono::steady_clock;

namespace {

void Check(const Status& s, const char* what) { bench::CheckOrExit(s, "tls_bench", what); }

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: tls_bench tcp|tls PKI_DIR [--quick] [--pin]\n");
    return 2;
  }
  const std::string name = argv[1], pki = argv[2];
  if (name != "tcp" && name != "tls") return 2;
  bench::FramePlan plan;
  bool pin = false;
  for (int i = 3; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--quick")) plan = bench::FramePlan{2000, 4};
    if (!std::strcmp(argv[i], "--pin")) pin = true;
  }
  std::unique_ptr<Listener> listener;
  Check(TcpListen("127.0.0.1", 0, &listener, /*read_ahead=*/false), "listen");
  const uint16_t port = listener->Port();
  pid_t server = fork();
  if (pin) bench::PinToCpu(server == 0 ? 1 : 0, "tls_bench");
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
    Check(bench::WriteBytes(*c, "!", 1), "server write");
    bench::ServeFrameWorkload(*c, plan, "tls_bench");
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
  bench::MeasureFrameWorkload(*c, name, plan, "tls_bench");
  int status = 0;
  waitpid(server, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
