// The transport registry (protocol/transport_registry.h): the list the
// client, the daemon and the workers go through, and adoption by name.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <set>
#include <thread>

#include "protocol/adopt.h"
#include "protocol/transport_registry.h"

namespace rcuda {
namespace {

bool IsOpen(int fd) { return fcntl(fd, F_GETFD) != -1; }

}  // namespace

TEST_CASE("the registry lists each transport once, with what the daemon and workers rely on", "[registry]") {
  const auto& all = Transports();
  REQUIRE(all.size() >= 3);
  CHECK(all[0].name == "tcp");  // the main listener, and what others fall back to
  CHECK(TransportNames() == "tcp, shm, ucx");
  std::set<std::string> names;
  int main_listeners = 0;
  for (const TransportEntry& e : all) {
    INFO(e.name);
    CHECK(names.insert(e.name).second);
    CHECK(FindTransport(e.name) == &e);
    CHECK_FALSE(e.label.empty());
    CHECK(e.adopt != nullptr);
    CHECK(e.handles >= 1);
    if (e.main_listener) ++main_listeners;
    CHECK((e.listen != nullptr || !e.rides_on.empty()));
    if (!e.rides_on.empty()) {
      const TransportEntry* carrier = FindTransport(e.rides_on);
      REQUIRE(carrier);
      CHECK(carrier->listen != nullptr);
      CHECK(carrier < &e);  // listed before: the daemon settles it first
    }
    if (!e.fallback.empty()) CHECK(FindTransport(e.fallback));
  }
  CHECK(main_listeners == 1);
  CHECK(FindTransport("tls") == nullptr);
  CHECK(FindTransport("") == nullptr);
  // auto: shared memory for a local server only, TCP always, UCX never.
  Endpoint local, remote;
  remote.host = "gpunode1";
  CHECK(FindTransport("shm")->auto_applies(local));
  CHECK_FALSE(FindTransport("shm")->auto_applies(remote));
  CHECK(FindTransport("shm")->auto_rank < FindTransport("tcp")->auto_rank);
  CHECK(FindTransport("ucx")->auto_rank < 0);
  CHECK(FindTransport("ucx")->fallback == "tcp");
  CHECK(FindTransport("shm")->fallback.empty());
}

TEST_CASE("adoption refuses unknown kinds and wrong descriptor counts, and closes what it was given", "[registry]") {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  std::unique_ptr<Connection> c;
  Status s = AdoptConnection("carrier-pigeon", {fds[0]}, &c);
  CHECK_FALSE(s.ok());
  CHECK_THAT(s.message(), Catch::Contains("carrier-pigeon"));
  CHECK_FALSE(IsOpen(fds[0]));
  int more[2];
  REQUIRE(pipe(more) == 0);
  CHECK_FALSE(AdoptConnection("shm", {fds[1]}, &c).ok());  // shared memory takes two
  CHECK_FALSE(IsOpen(fds[1]));
  CHECK_FALSE(AdoptConnection("tcp", {more[0], more[1]}, &c).ok());  // TCP takes one
  CHECK_FALSE(IsOpen(more[0]));
  CHECK_FALSE(IsOpen(more[1]));
  int pipe_fds[2];
  REQUIRE(pipe(pipe_fds) == 0);
  CHECK_FALSE(AdoptConnection("tcp", {pipe_fds[0]}, &c).ok());  // not a socket: refused, closed
  CHECK_FALSE(IsOpen(pipe_fds[0]));
  close(pipe_fds[1]);
}

TEST_CASE("a TCP connection made, accepted and adopted through the registry carries bytes", "[registry]") {
  const TransportEntry& tcp = *FindTransport("tcp");
  TransportListenOptions listen;
  listen.address = "127.0.0.1";
  std::unique_ptr<Listener> listener;
  std::string description, note;
  REQUIRE(tcp.listen(listen, &listener, &description, &note).ok());
  CHECK_THAT(description, Catch::Contains("127.0.0.1:" + std::to_string(listener->Port())));
  Endpoint endpoint;
  endpoint.port = listener->Port();
  std::unique_ptr<Connection> client, accepted, adopted;
  Status served;
  std::thread serve([&] {
    served = listener->Accept(&accepted);
    // The daemon's part: hand the socket on (here: to this process).
    if (served.ok()) served = AdoptConnection(accepted->Kind(), {dup(accepted->NativeHandle())}, &adopted);
  });
  TransportConnectReport report;
  Status connected = tcp.connect(endpoint, TransportConnectOptions{}, &client, &report);
  serve.join();
  REQUIRE(connected.ok());
  REQUIRE(served.ok());
  accepted.reset();
  ConstBuffer b{"ping", 4};
  REQUIRE(client->WriteAll(std::span(&b, 1)).ok());
  char got[4];
  REQUIRE(adopted->ReadExact(got, 4).ok());
  CHECK(std::string(got, 4) == "ping");
}

}  // namespace rcuda
