// Strided copies and sets, and the nodes of a graph, as the client builds
// them and the server replays them (wire::Memcpy3D, Memset3D, GraphNode).
#pragma once

#include <cstdint>
#include <vector>

#include "protocol/launch_options.h"

namespace rcuda {

// A strided copy. The host side, when there is one, is packed: width *
// height * depth bytes, rows in order (its address fields are unused).
struct Copy3D {
  uint64_t dst = 0, dst_pitch = 0, dst_height = 0;  // dst_height: rows per slice
  uint64_t src = 0, src_pitch = 0, src_height = 0;
  uint64_t width = 0, height = 1, depth = 1;  // width in bytes
  uint64_t packed_bytes() const { return width * height * depth; }
};

struct Set3D {
  uint64_t dst = 0, pitch = 0, slice_height = 0;
  uint32_t value = 0;         // the element's value
  uint32_t element_size = 1;  // 1, 2 or 4 bytes
  uint64_t width = 0, height = 1, depth = 1;  // width in bytes
};

// A node of a graph the client built. Dependencies point to earlier nodes.
struct GraphNodeSpec {
  enum class Type : uint8_t { kEmpty, kKernel, kMemcpy, kMemset, kHost, kEventRecord, kEventWait };
  enum class Direction : uint8_t { kHostToDevice, kDeviceToHost, kDeviceToDevice };
  Type type = Type::kEmpty;
  std::vector<uint32_t> dependencies;
  // kKernel
  uint64_t function = 0;
  Dim3 grid, block;
  uint32_t shared_bytes = 0;
  std::vector<uint8_t> params;
  LaunchOptions options;  // the kernel node's launch attributes
  // kMemcpy: the host side of a host copy is staging the executor owns
  Direction direction = Direction::kDeviceToDevice;
  Copy3D copy;
  uint64_t pending = 0;  // kDeviceToHost: the host channel entry the data goes to, each launch
  // kMemset
  Set3D set;
  // kHost: the client's host function id
  uint64_t host_id = 0;
  // kEventRecord / kEventWait
  uint64_t event = 0;
};

}  // namespace rcuda
