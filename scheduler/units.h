// Sizes and durations as people write them in command lines and
// configuration files: "1G", "512MiB", "1.5g"; "500ms", "30s", "5m", "2h".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace rcuda::sched {

// Binary units: K/KB/KiB = 1024 bytes, M = 1024^2, G = 1024^3, T = 1024^4.
// A bare number is bytes. Case does not matter.
Status ParseBytes(std::string_view text, uint64_t* bytes);

// ms, s, m, h; a bare number is seconds. Fractions allowed ("0.5").
Status ParseDurationMs(std::string_view text, int64_t* milliseconds);

// "80 GiB", "1.5 GiB", "512 MiB", "100 B": for logs and `ssgm status`.
std::string FormatBytes(uint64_t bytes);

}  // namespace rcuda::sched
