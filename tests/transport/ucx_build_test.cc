// What a build says about the UCX transport: with UCX's headers (and so,
// where rcuda is built, its library) the transport is there; without them
// every entry point says so with the API's own error, and a "ucx" handoff is
// refused with its descriptor closed. Built in both kinds of build.
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "protocol/adopt.h"
#include "protocol/ucx/ucx_transport.h"

namespace rcuda {

#ifdef RCUDA_HAVE_UCX
TEST_CASE("a build with UCX has the transport", "[ucx-build]") {
  std::string why;
  INFO(why);
  REQUIRE(UcxAvailable(&why));
  CHECK_FALSE(UcxVersion().empty());
  Status prepared = UcxPrepare();
  INFO(prepared.message());
  CHECK(prepared.ok());
}
#else
TEST_CASE("a build without UCX says so everywhere", "[ucx-build]") {
  std::string why;
  CHECK_FALSE(UcxAvailable(&why));
  CHECK(why.find("without UCX") != std::string::npos);
  CHECK(UcxVersion().empty());
  CHECK(UcxPrepare().code() == Status::Code::kNotSupported);
  std::unique_ptr<Connection> c;
  CHECK(UcxConnect("127.0.0.1", 1, UcxOptions{}, &c).code() == Status::Code::kNotSupported);
  std::unique_ptr<Listener> l;
  CHECK(UcxListen("127.0.0.1", 0, &l).code() == Status::Code::kNotSupported);
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  CHECK(AdoptConnection("ucx", {fds[0]}, &c).code() == Status::Code::kNotSupported);
  CHECK(fcntl(fds[0], F_GETFD) == -1);  // closed, as adoption promises
  close(fds[1]);
}
#endif

}  // namespace rcuda
