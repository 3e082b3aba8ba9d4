// Environment and clock helpers (the "Env" of LevelDB, reduced to what rcuda
// needs).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace rcuda {

std::optional<std::string> GetEnv(const char* name);
std::string GetEnvOr(const char* name, std::string fallback);
// Parses an integer variable; returns `fallback` when unset or malformed.
int64_t GetEnvInt(const char* name, int64_t fallback);

// Monotonic time in nanoseconds.
uint64_t NowNanos();
// Wall-clock time in seconds since the epoch.
int64_t NowUnixSeconds();

}  // namespace rcuda
