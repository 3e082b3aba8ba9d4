// TEST EQUIPMENT, shared by the host library doubles (tests/fake_libs/*):
// what each does alike. Every line a double logs names it and says it is
// test equipment; the first time it needs the fake driver it says what it
// computes instead of NVIDIA's library, and whether the driver's stream
// entry points could be reached (tests/fake_libs/driver_streams.h).
#pragma once

#include <cstdarg>
#include <cstdio>

#include <library_types.h>

#include "tests/fake_libs/driver_streams.h"

namespace rcuda::fake_libs {

// A GetProperty's answer, as the real libraries give it: the version's
// major, minor and patch numbers (here the headers'), `bad` for a null
// value or an unknown property.
template <class Status>
Status VersionProperty(libraryPropertyType type, int* value, int major, int minor, int patch, Status ok, Status bad) {
  if (value == nullptr) return bad;
  switch (type) {
    case MAJOR_VERSION: *value = major; return ok;
    case MINOR_VERSION: *value = minor; return ok;
    case PATCH_LEVEL: *value = patch; return ok;
  }
  return bad;
}

class FakeLibrary {
 public:
  // `soname`: "libcusolver.so.12"; `what`: what it computes, on what, and
  // that it is not a GPU nor NVIDIA's library.
  constexpr FakeLibrary(const char* soname, const char* what) : soname_(soname), what_(what) {}

  __attribute__((format(printf, 2, 3))) void Log(const char* format, ...) const {
    std::va_list args;
    va_start(args, format);
    std::fprintf(stderr, "[rcuda FAKE %s, TEST EQUIPMENT] ", soname_);
    std::vfprintf(stderr, format, args);
    std::fprintf(stderr, "\n");
    va_end(args);
  }

  // The fake driver's entry points, resolved (and the double announced) once.
  const DriverStreams& Driver() const {
    static const DriverStreams driver = [this] {
      DriverStreams d = ResolveDriverStreams();
      if (!d.ok()) Log("cannot reach the driver's cuLaunchHostFunc and cuStreamSynchronize: every call fails");
      Log("%s", what_);
      return d;
    }();
    return driver;
  }

  enum class Wait { kReached, kNoDriver, kFailed };
  // Returns once `stream` reached this call (driver_streams.h's WaitForStream).
  Wait WaitFor(cudaStream_t stream) const {
    const DriverStreams& d = Driver();
    if (!d.ok()) return Wait::kNoDriver;
    return WaitForStream(d, stream) ? Wait::kReached : Wait::kFailed;
  }

 private:
  const char* soname_;
  const char* what_;
};

}  // namespace rcuda::fake_libs
