// The client library's log: lines on stderr prefixed "rcuda: ", filtered by
// RCUDA_LOG_LEVEL (error, warn, info, debug; default warn). The client lives
// inside someone else's program, so it stays quiet unless something is wrong.
#pragma once

#include <string>

namespace rcuda::client {

enum class LogLevel { kError = 0, kWarn = 1, kInfo = 2, kDebug = 3 };

bool LogEnabled(LogLevel level);
void Log(LogLevel level, const std::string& message);

}  // namespace rcuda::client
