#include "client/log.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace rcuda::client {
namespace {

LogLevel ConfiguredLevel() {
  const char* v = std::getenv("RCUDA_LOG_LEVEL");
  if (!v) return LogLevel::kWarn;
  if (!std::strcmp(v, "error")) return LogLevel::kError;
  if (!std::strcmp(v, "info")) return LogLevel::kInfo;
  if (!std::strcmp(v, "debug") || !std::strcmp(v, "trace")) return LogLevel::kDebug;
  return LogLevel::kWarn;
}

}  // namespace

bool LogEnabled(LogLevel level) {
  static const LogLevel configured = ConfiguredLevel();
  return level <= configured;
}

void Log(LogLevel level, const std::string& message) {
  if (!LogEnabled(level)) return;
  static const char* names[] = {"error", "warning", "info", "debug"};
  std::string line = "rcuda: " + std::string(names[static_cast<int>(level)]) + ": " + message + "\n";
  // One write, so that lines from several threads do not interleave.
  ssize_t ignored = write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

}  // namespace rcuda::client
