// Logging: spdlog, configured once per process. Components log with
// spdlog::info(...) etc. directly; this file only sets the format and level.
#pragma once

#include <spdlog/spdlog.h>

#include <string_view>

namespace rcuda {

// Logs go to stderr as "[time] [component] [level] message". `level` is one
// of trace, debug, info, warn, error, off; unknown values mean info.
void InitLogging(std::string_view component, std::string_view level);

}  // namespace rcuda
