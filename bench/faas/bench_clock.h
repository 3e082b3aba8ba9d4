// Wall-clock time in unix milliseconds, with microseconds: the benchmark's
// logs are joined with the orchestrator's job log and s3rver's events (unix
// ms), all on this machine's clock.
#pragma once

#include <chrono>

namespace rcuda::faas_bench {

inline double UnixMs() {
  using namespace std::chrono;
  return duration<double, std::milli>(system_clock::now().time_since_epoch()).count();
}

}  // namespace rcuda::faas_bench
