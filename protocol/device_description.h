// A session's GPU as both sides see it: the worker fills it from its
// executor and sends it in the handshake (wire::DeviceInfo, HelloReply); the
// client keeps it and answers device queries from it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rcuda {

struct DeviceDescription {
  std::string name;
  std::vector<uint8_t> props;       // struct cudaDeviceProp, as the runtime lays it out
  std::vector<int32_t> attributes;  // cudaDeviceAttr value i at index i (0 if n/a)
  int32_t driver_version = 0;
  std::string backend;  // "cuda" | "test"
  bool test_device = false;  // TEST BACKEND: host memory, not a GPU
  uint32_t arch = 0;         // 90 for sm_90
  uint64_t total_memory = 0;  // the GPU's memory (the executor's answer)
  uint64_t memory_limit = 0;  // bytes the session may allocate, 0: the GPU's (HelloReply)

  int attribute(int attr) const {
    return attr >= 0 && attr < static_cast<int>(attributes.size()) ? attributes[attr] : 0;
  }
};

}  // namespace rcuda
