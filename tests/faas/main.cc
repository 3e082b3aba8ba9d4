// The faas tests' main: Catch2's, with SIGPIPE ignored as in the faas
// programs (a write to a connection a stopped server closed must fail, not
// end the process).
#define CATCH_CONFIG_RUNNER
#include <signal.h>

#include <catch2/catch.hpp>

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  return Catch::Session().run(argc, argv);
}
