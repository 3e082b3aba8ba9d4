// ModuleCache: the program's modules as one session's GPU has them. A
// module is sent (ModuleLoad: its fatbinary and the names of the kernels
// and variables the program registered) the first time one of its kernels
// or variables is used on the session, and its description is kept: each
// kernel's handle and checked parameter layout, each variable's address.
//
// Threads: its state belongs to the session and is guarded by the session's
// channel mutex, which every method requires. A thread that finds another
// loading the module it needs waits for that (the mutex is released while a
// reply is awaited) rather than loading it twice.
#pragma once

#include <memory>
#include <vector>

#include "client/registry.h"
#include "client/rpc_channel.h"
#include "common/allocation_table.h"
#include "protocol/module_description.h"

namespace rcuda::client {

class ModuleCache {
 public:
  struct LoadedModule {
    Status status;  // the outcome of loading it
    std::vector<FunctionDescription> functions;  // by Function::index
    std::vector<VariableDescription> variables;  // by Variable::index
  };

  // The module, loaded on `channel`'s session if needed; its variables join
  // `memory`. An error of the load is the module's for good (a kernel image
  // the GPU cannot run stays one); a broken channel is the session's.
  Status Get(RpcChannel& channel, AllocationTable& memory, const Module& module, LoadedModule** out)
      REQUIRES(channel.mu_);
  // A kernel that has code on this GPU (else cudaErrorInvalidDeviceFunction).
  Status Kernel(RpcChannel& channel, AllocationTable& memory, const Function& function,
                  FunctionDescription** out) REQUIRES(channel.mu_);
  // Forgets every module (a reset, a forked child): the next use loads it again.
  void Clear();

 private:
  // Reads the reply's description of `module` into *loaded, checking each
  // kernel's parameter layout (client/param_layout.h): a layout that cannot
  // be the kernel's breaks the channel.
  Status Describe(RpcChannel& channel, AllocationTable& memory, const Module& module,
                  const wire::ModuleLoadReply& reply, LoadedModule* loaded) REQUIRES(channel.mu_);

  std::vector<std::unique_ptr<LoadedModule>> modules_;  // by Module::index
  std::vector<bool> loading_;                           // by Module::index
};

}  // namespace rcuda::client
