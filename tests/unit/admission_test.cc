// Who may start a handshake with the daemon (server/admission.h).
#include <catch2/catch.hpp>

#include "server/admission.h"
#include "socket_connection.h"

namespace rcuda {

TEST_CASE("handshakes are capped in all and per peer address", "[server_admission]") {
  Admission admission(Admission::Limits{3, 2});
  std::string why;
  CHECK(admission.AdmitHandshake("ip 10.0.0.1", &why));
  CHECK(admission.AdmitHandshake("ip 10.0.0.1", &why));
  // A third from the same address: its share is taken.
  CHECK_FALSE(admission.AdmitHandshake("ip 10.0.0.1", &why));
  CHECK_THAT(why, Catch::Contains("10.0.0.1"));
  CHECK(admission.AdmitHandshake("ip 10.0.0.2", &why));
  // Three pending in all: nobody else.
  CHECK_FALSE(admission.AdmitHandshake("ip 10.0.0.3", &why));
  CHECK_THAT(why, Catch::Contains("--max-handshakes"));
  CHECK(admission.pending() == 3);

  // A handshake that became a session keeps counting against its address
  // until the session ends; one that did not frees its place at once.
  admission.HandshakeDone("ip 10.0.0.1", true);
  admission.HandshakeDone("ip 10.0.0.1", false);
  CHECK(admission.pending() == 1);
  CHECK(admission.of_peer("ip 10.0.0.1") == 1);
  CHECK(admission.AdmitHandshake("ip 10.0.0.1", &why));
  CHECK_FALSE(admission.AdmitHandshake("ip 10.0.0.1", &why));
  admission.SessionEnded("ip 10.0.0.1");
  CHECK(admission.AdmitHandshake("ip 10.0.0.1", &why));
}

TEST_CASE("zero means no limit", "[server_admission]") {
  Admission admission(Admission::Limits{0, 0});
  std::string why;
  for (int i = 0; i < 1000; ++i) REQUIRE(admission.AdmitHandshake("ip 10.0.0.1", &why));
  CHECK(admission.pending() == 1000);
}

TEST_CASE("a peer's address leaves its port out", "[server_admission]") {
  auto [a, b] = unit::SocketConnection::Pair();
  REQUIRE(a);
  // A socketpair is AF_UNIX: the peer is told by its user.
  CHECK(PeerAddress(*a) == "uid " + std::to_string(getuid()));
}

}  // namespace rcuda
