// Builds the runtime's struct cudaDeviceProp from device attributes, which
// is what the driver API offers. Both executors use it, so the client sees
// one consistent description however the server runs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rcuda {

// attributes[i] holds cudaDeviceAttr value i. `uuid` is 16 bytes.
std::vector<uint8_t> BuildDeviceProp(const std::vector<int32_t>& attributes, const std::string& name,
                                     const uint8_t uuid[16], uint64_t total_memory);

// The number of attribute slots rcuda transfers (cudaDeviceAttr values are
// below this).
inline constexpr int kDeviceAttributeSlots = 160;

}  // namespace rcuda
