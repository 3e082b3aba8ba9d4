// Session: one virtual device, that is one connection to one GPU of one
// rcuda-server. It is the client's RPC stub: each method turns one operation
// into protocol messages, so that the CUDA API code above never sees the wire.
//
// Thread-safe: a mutex serializes the session's messages (replies arrive in
// request order). Requests whose result the program does not wait for are
// sent without waiting; their errors come back with the next reply.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "client/registry.h"
#include "common/allocation_table.h"
#include "common/endpoint.h"
#include "common/fatbin.h"
#include "common/status.h"
#include "protocol/frame.h"
#include "protocol/transport.h"

namespace rcuda::client {

struct DeviceInfo {
  std::string name;
  std::vector<uint8_t> props;       // struct cudaDeviceProp
  std::vector<int32_t> attributes;  // by cudaDeviceAttr
  int32_t driver_version = 0;
  std::string backend;
  bool test_device = false;
  uint32_t arch = 0;
  uint64_t memory_limit = 0;

  int attribute(int attr) const { return attr >= 0 && attr < static_cast<int>(attributes.size()) ? attributes[attr] : 0; }
};

// A kernel as loaded on this session's GPU.
struct RemoteFunction {
  bool found = false;
  uint64_t handle = 0;
  std::vector<KernelParamInfo> params;
  int max_threads_per_block = 0;
  int shared_size_bytes = 0;
  int const_size_bytes = 0;
  int local_size_bytes = 0;
  int num_regs = 0;
  int ptx_version = 0;
  int binary_version = 0;
  int max_dynamic_shared_size_bytes = 0;
};

struct RemoteVariable {
  bool found = false;
  uint64_t address = 0;
  uint64_t size = 0;
};

class Session {
 public:
  Session(int device, Endpoint endpoint);
  ~Session();

  int device() const { return device_; }
  const Endpoint& endpoint() const { return endpoint_; }

  // Connects and shakes hands on first use; afterwards returns the
  // session's standing (sticky) error, if any.
  Status Connect();
  // Valid once Connect() succeeded.
  const DeviceInfo& device_info() const { return info_; }

  Status Malloc(uint64_t size, uint64_t* ptr);
  Status Free(uint64_t ptr);
  Status MemGetInfo(uint64_t* free, uint64_t* total);
  Status CopyToDevice(uint64_t dst, const void* src, uint64_t size, uint64_t stream);
  Status CopyFromDevice(void* dst, uint64_t src, uint64_t size, uint64_t stream);
  Status CopyOnDevice(uint64_t dst, uint64_t src, uint64_t size, uint64_t stream);
  Status Memset(uint64_t dst, int value, uint64_t size, uint64_t stream);
  Status Launch(const Function& function, dim3 grid, dim3 block, void** args, size_t shared_bytes,
                uint64_t stream);
  Status Synchronize();
  // Ends the session (the server frees everything it held) and forgets its
  // state; the next call opens a fresh one, as cudaDeviceReset does.
  Status Reset();

  // The kernel's description on this GPU (loads its module if needed).
  Status GetFunction(const Function& function, RemoteFunction* out);
  Status GetVariable(const Variable& variable, RemoteVariable* out);

  // The client's copy of the session's device memory map.
  bool OwnsRange(uint64_t ptr, uint64_t size);

 private:
  struct RemoteModule {
    Status status;  // the outcome of loading it
    std::vector<RemoteFunction> functions;
    std::vector<RemoteVariable> variables;
  };

  Status ConnectLocked();
  Status ModuleLocked(const Module& module, RemoteModule** out);
  Status FunctionLocked(const Function& function, RemoteFunction** out);

  // Sends builder_'s pending request `body` of type `type` as the next
  // message, followed by `bulk`.
  Status SendLocked(wire::Request type, flatbuffers::Offset<void> body, std::span<const ConstBuffer> bulk = {});
  // Waits for the reply to the last message. A bulk in the reply is read
  // into `bulk_dst`, which must hold exactly `bulk_bytes`. Returns the
  // request's error, else an error of earlier asynchronous requests.
  Status ReceiveLocked(const wire::Reply** reply, void* bulk_dst = nullptr, uint64_t bulk_bytes = 0);
  // Send + receive for requests without bulk either way.
  Status CallLocked(wire::Request type, flatbuffers::Offset<void> body, const wire::Reply** reply = nullptr);
  // Marks the session broken (transport failure): every later call fails.
  Status BreakLocked(const Status& cause);
  Status NoteError(const Status& status);

  const int device_;
  const Endpoint endpoint_;
  std::mutex mu_;
  std::unique_ptr<Connection> connection_;
  bool connected_ = false;
  Status sticky_;
  DeviceInfo info_;
  uint64_t next_id_ = 0;
  flatbuffers::FlatBufferBuilder builder_{1024};
  std::vector<uint8_t> reply_;
  std::vector<uint8_t> params_;
  AllocationTable allocations_;
  std::vector<std::unique_ptr<RemoteModule>> modules_;  // by Module::index
};

}  // namespace rcuda::client
