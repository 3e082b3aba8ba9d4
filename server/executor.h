// Executor: the GPU as a session worker sees it. One instance per worker
// process, so per client session. Two implementations: CudaExecutor (the CUDA
// driver API) and TestExecutor (TEST EQUIPMENT: host memory, host kernels).
//
// Handles (device pointers, modules, functions, streams) are uint64 values
// the executor hands out. The session worker validates device pointer ranges
// before calling in (common/allocation_table.h); the executor validates the
// handles it owns.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/fatbin.h"
#include "common/status.h"

namespace rcuda {

struct Dim3 {
  uint32_t x = 1, y = 1, z = 1;
};

struct DeviceDescription {
  std::string name;
  std::vector<uint8_t> props;   // struct cudaDeviceProp
  std::vector<int32_t> attributes;  // by cudaDeviceAttr value
  int32_t driver_version = 0;
  std::string backend;          // "cuda" | "test"
  bool test_device = false;
  uint32_t arch = 0;            // 90 for sm_90
  uint64_t total_memory = 0;
};

struct FunctionDescription {
  bool found = false;
  uint64_t handle = 0;
  std::vector<KernelParamInfo> params;
  int32_t max_threads_per_block = 0;
  int32_t shared_size_bytes = 0;
  int32_t const_size_bytes = 0;
  int32_t local_size_bytes = 0;
  int32_t num_regs = 0;
  int32_t ptx_version = 0;
  int32_t binary_version = 0;
  int32_t max_dynamic_shared_size_bytes = 0;
};

struct VariableDescription {
  bool found = false;
  uint64_t address = 0;
  uint64_t size = 0;
};

struct ModuleDescription {
  std::vector<FunctionDescription> functions;
  std::vector<VariableDescription> variables;
};

// Produces the next `size` bytes of an incoming payload into `dst`.
using ChunkReader = std::function<Status(void* dst, size_t size)>;
// Consumes the next `size` bytes of an outgoing payload.
using ChunkWriter = std::function<Status(const void* src, size_t size)>;

// Stream handle 0 is the legacy default stream.
inline constexpr uint64_t kLegacyStream = 0;

class Executor {
 public:
  virtual ~Executor() = default;

  // Selects the GPU and creates the session's context.
  virtual Status Open(int gpu) = 0;
  virtual Status Describe(DeviceDescription* description) = 0;

  virtual Status Allocate(uint64_t size, uint64_t* ptr) = 0;
  virtual Status Free(uint64_t ptr) = 0;
  virtual Status MemGetInfo(uint64_t* free, uint64_t* total) = 0;

  // Host to device: pulls `size` bytes through `read`, in chunks of the
  // executor's choosing (so it can overlap the transfer with the copy).
  virtual Status CopyToDevice(uint64_t dst, uint64_t size, uint64_t stream, const ChunkReader& read) = 0;
  // Device to host: waits for earlier work on `stream`, then pushes the
  // bytes through `write`. An error before the first write means no byte
  // was produced.
  virtual Status CopyFromDevice(uint64_t src, uint64_t size, uint64_t stream, const ChunkWriter& write) = 0;
  virtual Status CopyOnDevice(uint64_t dst, uint64_t src, uint64_t size, uint64_t stream) = 0;
  virtual Status Memset(uint64_t dst, uint8_t value, uint64_t size, uint64_t stream) = 0;

  // Loads a fatbinary and describes the named kernels and variables, in
  // order. A name the image lacks is reported as not found, not an error.
  virtual Status LoadModule(std::string_view fatbin, const std::vector<std::string>& functions,
                            const std::vector<std::string>& variables, uint64_t* module,
                            ModuleDescription* description) = 0;
  virtual Status UnloadModule(uint64_t module) = 0;

  virtual Status Launch(uint64_t function, Dim3 grid, Dim3 block, uint32_t shared_bytes, uint64_t stream,
                        std::span<const uint8_t> params) = 0;

  virtual Status Synchronize() = 0;
};

struct ExecutorOptions {
  std::string backend = "cuda";                 // "cuda" | "test"
  std::vector<std::string> test_kernel_plugins;  // test backend only
  uint64_t test_memory_bytes = 16ull << 30;      // test backend's "GPU" size
};

Status CreateExecutor(const ExecutorOptions& options, std::unique_ptr<Executor>* executor);

}  // namespace rcuda
