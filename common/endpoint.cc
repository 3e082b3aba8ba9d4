#include "common/endpoint.h"

#include <charconv>

namespace rcuda {

namespace {

bool ParseNumber(std::string_view text, long max, long* out) {
  if (text.empty()) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size() && *out >= 0 && *out <= max;
}

// A scheme as URLs have them: a letter, then letters, digits, '+', '-' or
// '.'. Lower case only: it is a transport's name.
bool IsScheme(std::string_view s) {
  if (s.empty() || s.size() > 32 || s[0] < 'a' || s[0] > 'z') return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.')) return false;
  }
  return true;
}

}  // namespace

std::string Endpoint::ToString() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return (transport.empty() ? "" : transport + "://") + h + "@" + std::to_string(port) + ":" + std::to_string(gpu);
}

Status ParseEndpoint(std::string_view text, Endpoint* endpoint) {
  Endpoint result;
  std::string_view rest = text;
  if (size_t scheme = rest.find("://"); scheme != std::string_view::npos) {
    if (!IsScheme(rest.substr(0, scheme))) {
      return Status::InvalidValue("endpoint '" + std::string(text) + "': bad transport name before '://'");
    }
    result.transport = std::string(rest.substr(0, scheme));
    rest.remove_prefix(scheme + 3);
  }
  if (rest.starts_with('[')) {
    size_t close = rest.find(']');
    if (close == std::string_view::npos) return Status::InvalidValue("endpoint '" + std::string(text) + "': missing ']'");
    result.host = std::string(rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
  } else {
    size_t stop = rest.find_first_of("@:");
    result.host = std::string(rest.substr(0, stop));
    rest.remove_prefix(stop == std::string_view::npos ? rest.size() : stop);
  }
  if (result.host.empty()) return Status::InvalidValue("endpoint '" + std::string(text) + "': empty host");
  if (rest.starts_with('@')) {
    rest.remove_prefix(1);
    size_t colon = rest.find(':');
    long port;
    if (!ParseNumber(rest.substr(0, colon), 65535, &port) || port == 0) {
      return Status::InvalidValue("endpoint '" + std::string(text) + "': bad port");
    }
    result.port = static_cast<uint16_t>(port);
    rest.remove_prefix(colon == std::string_view::npos ? rest.size() : colon);
  }
  if (rest.starts_with(':')) {
    rest.remove_prefix(1);
    long gpu;
    if (!ParseNumber(rest, 1 << 20, &gpu)) return Status::InvalidValue("endpoint '" + std::string(text) + "': bad GPU index");
    result.gpu = static_cast<int>(gpu);
    rest = {};
  }
  if (!rest.empty()) return Status::InvalidValue("endpoint '" + std::string(text) + "': unexpected '" + std::string(rest) + "'");
  *endpoint = std::move(result);
  return Status::Ok();
}

}  // namespace rcuda
