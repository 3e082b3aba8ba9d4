// The one Catch2 main of every test program (rcuda_catch_main): Catch2 2.x is
// a single header whose implementation takes about 30 s to compile, so it is
// compiled once per build, not once per test program.
//
// SIGPIPE is ignored: the tests write to sockets that a stopped or killed
// peer may already have closed, and such a write must fail, not end the test
// program (as in rcuda's own daemons and the faas programs).
#define CATCH_CONFIG_RUNNER
#include <signal.h>

#include <catch2/catch.hpp>

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  return Catch::Session().run(argc, argv);
}
