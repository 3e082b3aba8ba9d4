// TEST EQUIPMENT: the other end of a UCX connection, in a process of its own
// (ucx_transport_test.cc starts it), as a session worker or a client is.
//
//   ucx_peer adopt-echo FD       adopt bootstrap socket FD (as a worker does),
//                                send "R", then echo: u32 n, n bytes back;
//                                n == 0 ends
//   ucx_peer adopt-sink FD       adopt FD, send "R", read, send "M" 16 MiB
//                                into the copy, read on until killed
//   ucx_peer connect-source PORT connect to 127.0.0.1:PORT, send "hello",
//                                await the upgrade, send "R", then write
//                                until killed
//   ucx_peer signals-leave PORT  load UCX as a client library does (leaving
//   ucx_peer signals-keep PORT   error signals to the program, or not) by
//                                connecting to PORT (whether anything
//                                listens does not matter), then print
//                                "SIGSEGV default" or "SIGSEGV handled"
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "protocol/adopt.h"
#include "protocol/ucx/ucx_transport.h"

using namespace rcuda;

namespace {

int Fail(const std::string& what, const Status& s) {
  std::fprintf(stderr, "ucx_peer: %s: %s\n", what.c_str(), s.message().c_str());
  return 1;
}

int AdoptEcho(int fd) {
  std::unique_ptr<Connection> c;
  Status s = AdoptConnection("ucx", {fd}, &c);
  if (!s.ok()) return Fail("adopt", s);
  char ready = 'R';
  ConstBuffer b{&ready, 1};
  if (!(s = c->WriteAll(std::span(&b, 1))).ok()) return Fail("write", s);
  std::vector<char> data;
  while (true) {
    uint32_t n = 0;
    s = c->ReadExact(&n, sizeof n);
    if (!s.ok()) return Fail("read", s);
    if (n == 0) return 0;
    data.resize(n);
    s = c->ReadExact(data.data(), n);
    if (!s.ok()) return Fail("read", s);
    ConstBuffer parts[2] = {{&n, sizeof n}, {data.data(), n}};
    s = c->WriteAll(parts);
    if (!s.ok()) return Fail("write", s);
  }
}

int AdoptSink(int fd) {
  std::unique_ptr<Connection> c;
  Status s = AdoptConnection("ucx", {fd}, &c);
  if (!s.ok()) return Fail("adopt", s);
  char ready = 'R';
  ConstBuffer b{&ready, 1};
  if (!(s = c->WriteAll(std::span(&b, 1))).ok()) return Fail("write", s);
  // 16 MiB into the copy, say so ("M"): the test kills this process then.
  std::vector<char> data(1 << 20);
  for (int i = 0; (s = c->ReadExact(data.data(), data.size())).ok(); ++i) {
    if (i == 15) {
      char mid = 'M';
      b = {&mid, 1};
      if (!(s = c->WriteAll(std::span(&b, 1))).ok()) return Fail("write", s);
    }
  }
  return Fail("read", s);
}

int ConnectSource(uint16_t port) {
  std::unique_ptr<Connection> c;
  Status s = UcxConnect("127.0.0.1", port, UcxOptions{}, &c);
  if (!s.ok()) return Fail("connect", s);
  char hello[5] = {'h', 'e', 'l', 'l', 'o'};
  ConstBuffer b{hello, sizeof hello};
  if (!(s = c->WriteAll(std::span(&b, 1))).ok()) return Fail("write", s);
  char byte = 0;
  if (!(s = c->ReadExact(&byte, 1)).ok()) return Fail("read", s);  // the upgrade happens here
  char ready = 'R';
  b = {&ready, 1};
  if (!(s = c->WriteAll(std::span(&b, 1))).ok()) return Fail("write", s);
  std::vector<char> data(8 << 20, 'x');
  b = {data.data(), data.size()};
  while ((s = c->WriteAll(std::span(&b, 1))).ok()) {
  }
  return Fail("write", s);
}

int Signals(uint16_t port, bool leave) {
  UcxOptions options;
  options.leave_error_signals_to_program = leave;
  options.connect_timeout = std::chrono::milliseconds(2000);
  std::unique_ptr<Connection> c;
  Status s = UcxConnect("127.0.0.1", port, options, &c);
  std::string why;
  if (!UcxAvailable(&why)) return Fail("UCX", Status::NotSupported(why));
  struct sigaction current {};
  sigaction(SIGSEGV, nullptr, &current);
  std::printf("SIGSEGV %s\n", current.sa_handler == SIG_DFL ? "default" : "handled");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: ucx_peer adopt-echo|adopt-sink FD | connect-source|signals-leave|signals-keep PORT\n");
    return 2;
  }
  const std::string mode = argv[1];
  const int arg = std::atoi(argv[2]);
  if (mode == "adopt-echo") return AdoptEcho(arg);
  if (mode == "adopt-sink") return AdoptSink(arg);
  if (mode == "connect-source") return ConnectSource(static_cast<uint16_t>(arg));
  if (mode == "signals-leave") return Signals(static_cast<uint16_t>(arg), true);
  if (mode == "signals-keep") return Signals(static_cast<uint16_t>(arg), false);
  return 2;
}
