#include "scheduler/units.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace rcuda::sched {

namespace {

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = char(std::tolower(uint8_t(c)));
  return out;
}

// Splits "1.5G" into 1.5 and "g". Fails on an empty or malformed number.
bool SplitNumber(std::string_view text, double* number, std::string* unit) {
  size_t i = 0;
  while (i < text.size() && (std::isdigit(uint8_t(text[i])) || text[i] == '.')) ++i;
  if (i == 0) return false;
  std::string digits(text.substr(0, i));
  char* end = nullptr;
  *number = std::strtod(digits.c_str(), &end);
  if (!end || *end != '\0' || !std::isfinite(*number)) return false;
  std::string_view rest = text.substr(i);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  *unit = Lower(rest);
  return true;
}

}  // namespace

Status ParseBytes(std::string_view text, uint64_t* bytes) {
  double number;
  std::string unit;
  if (!SplitNumber(text, &number, &unit)) return Status::InvalidValue("bad size '" + std::string(text) + "'");
  double multiplier;
  if (unit.empty() || unit == "b") multiplier = 1;
  else if (unit == "k" || unit == "kb" || unit == "kib") multiplier = 1024.0;
  else if (unit == "m" || unit == "mb" || unit == "mib") multiplier = 1024.0 * 1024;
  else if (unit == "g" || unit == "gb" || unit == "gib") multiplier = 1024.0 * 1024 * 1024;
  else if (unit == "t" || unit == "tb" || unit == "tib") multiplier = 1024.0 * 1024 * 1024 * 1024;
  else return Status::InvalidValue("bad size unit in '" + std::string(text) + "' (use K, M, G or T)");
  double value = std::round(number * multiplier);
  if (value > 9.0e18) return Status::InvalidValue("size '" + std::string(text) + "' is too large");
  *bytes = uint64_t(value);
  return Status::Ok();
}

Status ParseDurationMs(std::string_view text, int64_t* milliseconds) {
  double number;
  std::string unit;
  if (!SplitNumber(text, &number, &unit)) return Status::InvalidValue("bad duration '" + std::string(text) + "'");
  double multiplier;
  if (unit == "ms") multiplier = 1;
  else if (unit.empty() || unit == "s") multiplier = 1000;
  else if (unit == "m" || unit == "min") multiplier = 60'000;
  else if (unit == "h") multiplier = 3'600'000;
  else return Status::InvalidValue("bad duration unit in '" + std::string(text) + "' (use ms, s, m or h)");
  double value = std::round(number * multiplier);
  if (value > 1.0e15) return Status::InvalidValue("duration '" + std::string(text) + "' is too long");
  *milliseconds = int64_t(value);
  return Status::Ok();
}

std::string FormatBytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = double(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  char buffer[32];
  if (unit == 0 || value == std::floor(value)) {
    std::snprintf(buffer, sizeof buffer, "%.0f %s", value, kUnits[unit]);
  } else {
    std::snprintf(buffer, sizeof buffer, "%.1f %s", value, kUnits[unit]);
  }
  return buffer;
}

}  // namespace rcuda::sched
