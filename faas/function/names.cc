#include "faas/function/names.h"

#include <cctype>
#include <cmath>
#include <cstdlib>

namespace rcuda::faas {
namespace {

bool IsAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool IsLowerOrDigit(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Shared by keys and folders: the checks that keep a path inside its place.
Status CheckPathLike(std::string_view what, std::string_view text) {
  if (text.size() > 1024) return Status::InvalidValue(std::string(what) + " is longer than 1024 bytes");
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return Status::InvalidValue(std::string(what) + " holds a control character");
    if (c == '\\') return Status::InvalidValue(std::string(what) + " holds a backslash");
  }
  if (!text.empty() && text.front() == '/') return Status::InvalidValue(std::string(what) + " starts with '/'");
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('/', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view segment = text.substr(start, end - start);
    if (segment == "." || segment == "..") {
      return Status::InvalidValue(std::string(what) + " has a '" + std::string(segment) + "' segment");
    }
    if (segment.empty() && end != text.size()) {
      return Status::InvalidValue(std::string(what) + " has an empty segment ('//')");
    }
    start = end + 1;
  }
  return Status::Ok();
}

}  // namespace

bool IsValidFunctionName(std::string_view name) {
  if (name.empty() || name.size() > 64 || !IsAlnum(name.front())) return false;
  for (char c : name) {
    if (!IsAlnum(c) && c != '-' && c != '_') return false;
  }
  return true;
}

bool IsStrictBucketName(std::string_view bucket) {
  if (bucket.size() < 3 || bucket.size() > 63) return false;
  if (!IsLowerOrDigit(bucket.front()) || !IsLowerOrDigit(bucket.back())) return false;
  bool all_digits_and_dots = true;
  for (size_t i = 0; i < bucket.size(); ++i) {
    char c = bucket[i];
    if (!IsLowerOrDigit(c) && c != '.' && c != '-') return false;
    if (c == '.' && i + 1 < bucket.size() && bucket[i + 1] == '.') return false;
    if (!(c == '.' || (c >= '0' && c <= '9'))) all_digits_and_dots = false;
  }
  return !all_digits_and_dots;  // "192.168.0.1" is not a bucket
}

Status CheckObjectKey(std::string_view key) {
  if (key.empty()) return Status::InvalidValue("object key is empty");
  return CheckPathLike("object key", key);
}

Status CheckFolder(std::string_view folder) {
  if (!folder.empty() && folder.back() == '/') return Status::InvalidValue("folder ends with '/'");
  return CheckPathLike("folder", folder);
}

bool IsValidEnvironmentName(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  if (!(std::isalpha(static_cast<unsigned char>(name.front())) || name.front() == '_')) return false;
  for (char c : name) {
    if (!IsAlnum(c) && c != '_') return false;
  }
  return true;
}

Status ParseSizeWithUnit(std::string_view text, uint64_t* bytes) {
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  if (i == 0 || i > 24) return Status::InvalidValue("'" + std::string(text) + "' is not a size (e.g. 1GiB, 512MiB)");
  std::string digits(text.substr(0, i));
  char* end = nullptr;
  double number = std::strtod(digits.c_str(), &end);
  if (!end || *end != '\0' || !std::isfinite(number)) {
    return Status::InvalidValue("'" + std::string(text) + "' is not a size (e.g. 1GiB, 512MiB)");
  }
  std::string_view rest = text.substr(i);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  std::string unit = Lower(rest);
  double multiplier;
  if (unit.empty()) {
    return Status::InvalidValue("size '" + std::string(text) + "' needs a unit (e.g. 1GiB, 512MiB)");
  } else if (unit == "b") {
    multiplier = 1;
  } else if (unit == "k" || unit == "kb" || unit == "kib") {
    multiplier = 1024.0;
  } else if (unit == "m" || unit == "mb" || unit == "mib") {
    multiplier = 1024.0 * 1024;
  } else if (unit == "g" || unit == "gb" || unit == "gib") {
    multiplier = 1024.0 * 1024 * 1024;
  } else if (unit == "t" || unit == "tb" || unit == "tib") {
    multiplier = 1024.0 * 1024 * 1024 * 1024;
  } else {
    return Status::InvalidValue("size '" + std::string(text) + "' has an unknown unit (use KiB, MiB, GiB or TiB)");
  }
  double value = std::round(number * multiplier);
  if (value > 9.0e18) return Status::InvalidValue("size '" + std::string(text) + "' is too large");
  *bytes = static_cast<uint64_t>(value);
  return Status::Ok();
}

}  // namespace rcuda::faas
