// The Catch2 main of rcuda's fault tests.
#include <signal.h>

#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

int main(int argc, char** argv) {
  // A test writes to sockets that the server may already have closed.
  signal(SIGPIPE, SIG_IGN);
  return Catch::Session().run(argc, argv);
}
