// CRC-32C (Castagnoli), which frames the journal's records so that a torn
// write at the end of the file is recognised after a crash.
#pragma once

#include <cstdint>
#include <string_view>

namespace rcuda::sched {

uint32_t Crc32c(std::string_view data);

}  // namespace rcuda::sched
