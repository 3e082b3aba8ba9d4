// Helpers shared by the fuzz targets (test equipment: nothing here is linked
// into rcuda itself).
//
// Every target defines LLVMFuzzerTestOneInput. Built by clang with
// -fsanitize=fuzzer it is a libFuzzer fuzzer (scripts/fuzz.sh); built by any
// compiler without it, replay_main.cc runs it over the committed corpus, which
// is how the regression inputs run in every ctest (fuzz_corpus.<target>).
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

// A property of the code under test that an input broke: print and abort, so
// that libFuzzer (or the replay) reports the input as a crash.
#define FUZZ_CHECK(condition, what)                                                          \
  do {                                                                                       \
    if (!(condition)) {                                                                      \
      std::fprintf(stderr, "fuzz check failed at %s:%d: %s (%s)\n", __FILE__, __LINE__, what, \
                   #condition);                                                              \
      std::abort();                                                                          \
    }                                                                                        \
  } while (0)

namespace rcuda::fuzz {

// Keeps a value alive so that reading it is not optimized away: the targets
// read every field a handler would, and the sanitizers check each read.
template <class T>
inline void Use(const T& value) {
  asm volatile("" : : "r,m"(value) : "memory");
}

inline std::string_view AsText(const uint8_t* data, size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

}  // namespace rcuda::fuzz
