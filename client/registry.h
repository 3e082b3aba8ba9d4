// What the program registered at start-up: its fatbinaries (modules), their
// kernels (by host stub address) and their __device__/__constant__/__managed__
// variables (by host shadow address). Process-wide; each Session loads a
// module on its GPU the first time one of its kernels or variables is used.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace rcuda::client {

struct Module;

struct Function {
  Module* module;
  size_t index;             // in module->functions
  const void* host_stub;
  std::string device_name;  // mangled
};

struct Variable {
  Module* module;
  size_t index;             // in module->variables
  const void* host_shadow;
  std::string device_name;
  size_t size;
  bool constant;
  bool managed;
};

struct Module {
  size_t index;             // in the registry, stable for the process
  std::string_view image;   // the whole fatbinary, in the program's memory
  std::vector<Function*> functions;
  std::vector<Variable*> variables;
  bool has_managed = false;
};

class Registry {
 public:
  static Registry& Get();

  Module* AddModule(const void* fatbin_wrapper);
  void AddFunction(Module* module, const void* host_stub, const char* device_name);
  void AddVariable(Module* module, const void* host_shadow, const char* device_name, size_t size, bool constant,
                   bool managed);

  // nullptr when unknown.
  Function* FindFunction(const void* host_stub) const;
  // Whether `p` is one of the registry's Function objects (a cudaKernel_t).
  bool IsFunction(const void* p) const;
  Variable* FindVariable(const void* host_shadow) const;
  Module* module(size_t index) const;
  size_t module_count() const;

 private:
  mutable std::shared_mutex mu_;
  std::vector<std::unique_ptr<Module>> modules_;
  std::vector<std::unique_ptr<Function>> functions_;
  std::vector<std::unique_ptr<Variable>> variables_;
  std::unordered_map<const void*, Function*> by_stub_;
  std::unordered_map<const void*, Variable*> by_shadow_;
  std::unordered_map<const void*, Function*> by_object_;
};

}  // namespace rcuda::client
