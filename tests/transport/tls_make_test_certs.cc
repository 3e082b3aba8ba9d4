// TEST EQUIPMENT: rcuda_tls_make_test_certs DIR writes the TLS tests'
// throwaway PKI into DIR (tls_test_certs.h); the integration tests run it
// as a CTest fixture.
#include <sys/stat.h>

#include <cstdio>

#include "tls_test_certs.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  mkdir(argv[1], 0700);
  rcuda::Status s = rcuda::testing::MakeTestPki(argv[1]);
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.message().c_str());
    return 1;
  }
  return 0;
}
