#include "scheduler/host_name.h"

#include <arpa/inet.h>

#include <algorithm>

namespace rcuda::sched {

namespace {

constexpr size_t kMaxHostNameBytes = 253;  // RFC 1035 2.3.4, without the trailing dot
constexpr size_t kMaxLabelBytes = 63;

bool IsAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool IsIpv4(std::string_view text) {
  // inet_pton(AF_INET) takes only the dotted-quad decimal form.
  if (text.size() > 15) return false;
  std::string copy(text);
  in_addr address{};
  return inet_pton(AF_INET, copy.c_str(), &address) == 1;
}

bool IsIpv6(std::string_view text) {
  if (text.empty() || text.size() > 45) return false;  // INET6_ADDRSTRLEN - 1
  std::string copy(text);
  in6_addr address{};
  return inet_pton(AF_INET6, copy.c_str(), &address) == 1;
}

// RFC 1123 2.1: labels of letters, digits and hyphens, 1 to 63 characters,
// neither starting nor ending with a hyphen. A name whose last label is all
// digits would read as an address; such text must be a valid IPv4 address.
bool IsHostName(std::string_view text) {
  if (text.empty() || text.size() > kMaxHostNameBytes) return false;
  size_t start = 0;
  bool last_label_numeric = false;
  while (start <= text.size()) {
    size_t dot = text.find('.', start);
    std::string_view label = text.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > kMaxLabelBytes || label.front() == '-' || label.back() == '-') return false;
    if (!std::all_of(label.begin(), label.end(), [](char c) { return IsAlnum(c) || c == '-'; })) return false;
    last_label_numeric = std::all_of(label.begin(), label.end(), IsDigit);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return !last_label_numeric;
}

}  // namespace

bool IsValidAdvertisedHost(std::string_view host) { return IsHostName(host) || IsIpv4(host) || IsIpv6(host); }

Status NormalizeAdvertisedHost(std::string_view text, std::string* host) {
  std::string_view bare = text;
  if (bare.size() >= 2 && bare.front() == '[' && bare.back() == ']') {
    bare = bare.substr(1, bare.size() - 2);
    if (!IsIpv6(bare)) return Status::InvalidValue("bad host '" + std::string(text) + "': not an IPv6 address in brackets");
  } else if (!IsValidAdvertisedHost(bare)) {
    return Status::InvalidValue("bad host '" + std::string(text).substr(0, 300) +
                                "': not a host name (RFC 1123), an IPv4 address or an IPv6 address");
  }
  *host = std::string(bare);
  return Status::Ok();
}

}  // namespace rcuda::sched
