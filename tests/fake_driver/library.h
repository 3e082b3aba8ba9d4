// TEST EQUIPMENT: modules of the fake CUDA driver. cuLibraryLoadData parses
// the image with rcuda's own fatbinary/cubin parser (common/fatbin.h): the
// kernels with their parameter layout, static shared memory, registers and
// __launch_bounds__, and the module's variables, which get fake device
// memory initialized from the image. A kernel runs as the host kernel
// registered under its mangled name (host_kernels.h).
#pragma once

#include <cuda.h>

#include <memory>
#include <string>
#include <unordered_map>

#include "common/fatbin.h"
#include "tests/fake_driver/host_kernel_api.h"

namespace fake {

struct Library;

// One kernel of a library; the same object is its CUkernel and its CUfunction.
struct Kernel {
  Library* library = nullptr;
  std::string name;                       // mangled
  const rcuda::CubinKernel* image = nullptr;
  rcuda_test_kernel_fn host = nullptr;    // nullptr: no host implementation
  int max_threads = 0;                    // __launch_bounds__, else the device maximum
  int max_dynamic_shared = 0;             // CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES
  int carveout = -1;                      // CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT
  int required_cluster[3] = {0, 0, 0};
  int non_portable_cluster_size_allowed = 0;
  int cluster_scheduling_policy = 0;
  CUfunc_cache cache_config = CU_FUNC_CACHE_PREFER_NONE;
};

struct Library : std::enable_shared_from_this<Library> {
  struct Variable {
    uint64_t address = 0;
    uint64_t size = 0;
  };
  rcuda::ModuleImage image;
  std::unordered_map<std::string, std::unique_ptr<Kernel>> kernels;  // created by cuLibraryGetKernel
  std::unordered_map<std::string, Variable> variables;
  ~Library();  // unmaps the variables
};

// Parses `code` (a fatbinary, an ELF cubin or PTX text) and allocates the
// module's variables. Lock held.
CUresult LoadLibrary(const void* code, std::shared_ptr<Library>* library);

// Forgets the library: its handles become invalid and its variables leave
// the device memory map; queued work that uses it keeps it alive. Lock held.
void UnloadLibrary(Library* library);

// The library behind a handle, or nullptr. Lock held.
std::shared_ptr<Library> FindLibrary(CUlibrary handle);

// The kernel named `name` of `library`, created on first use.
CUresult GetKernel(Library* library, const char* name, Kernel** kernel);

// A live kernel handle (CUkernel or CUfunction). Lock held.
CUresult KernelOf(const void* handle, Kernel** kernel);

}  // namespace fake
