// What the library test programs (cublas_gemm, curand_moments,
// cusolver_solve...) use to reach rcuda's session beneath a library's own
// API in their --session-checks: rcuda's private call
// (client/private_library_abi.h), found at run time, since under rcuda our
// libcudart exports it and natively nothing does. The structures are that
// header's, restated: a test program must not include the client's headers.
#pragma once

#include <dlfcn.h>

#include <cstddef>
#include <cstdint>

namespace rtest {

struct RawLibraryCall {
  uint32_t library, function;
  const int64_t* values;
  size_t value_count;
  const uint8_t* bytes;
  size_t byte_count;
};
struct RawLibraryReply {
  int32_t status;
  int64_t values[8];
  size_t value_count;
  uint8_t bytes[64];
  size_t byte_count;
};
using RawLibraryCallFn = int (*)(const RawLibraryCall*, RawLibraryReply*);

// rcudaPrivateLibraryCall, or null when the program does not run through rcuda.
inline RawLibraryCallFn PrivateLibraryCall() {
  return reinterpret_cast<RawLibraryCallFn>(dlsym(RTLD_DEFAULT, "rcudaPrivateLibraryCall"));
}

}  // namespace rtest

// A library call that must succeed, or must answer `expected`: LIB names the
// library in the message ("cuSOLVER").
#define RTEST_LIBRARY_CHECK(LIB, call)                                                                      \
  do {                                                                                                      \
    int rtest_st_ = static_cast<int>(call);                                                                 \
    if (rtest_st_ != 0) ::rtest::Fail("%s:%d: %s returned %s status %d", __FILE__, __LINE__, #call, LIB,    \
                                      rtest_st_);                                                           \
  } while (0)
#define RTEST_LIBRARY_EXPECT(LIB, call, expected)                                                           \
  do {                                                                                                      \
    int rtest_st_ = static_cast<int>(call);                                                                 \
    if (rtest_st_ != static_cast<int>(expected))                                                            \
      ::rtest::Fail("%s:%d: %s returned %s status %d, expected %d", __FILE__, __LINE__, #call, LIB,         \
                    rtest_st_, static_cast<int>(expected));                                                 \
  } while (0)
