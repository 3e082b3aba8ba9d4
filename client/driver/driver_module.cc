// The driver API's modules and launches, forwarded through rcuda's
// libcudart's registration entry points: a loaded image becomes a module of
// the runtime's registry (as a program's own fatbinary does), each of its
// kernels a registered function with a host stub address of ours, so that
// the runtime's module cache loads it on the session with the kernels' names
// and the server's parameter layouts, and launches go through its launch path.
#include <cuda.h>
#include <cuda_runtime_api.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "client/driver/driver_state.h"
#include "client/driver/driver_unsupported.h"
#include "common/fatbin.h"
#include "common/fatbin_image.h"

extern "C" {
void** __cudaRegisterFatBinary(void* fat_cubin);
void __cudaRegisterFatBinaryEnd(void** handle);
void __cudaRegisterFunction(void** handle, const char* host_fun, char* device_fun, const char* device_name,
                            int thread_limit, uint3* tid, uint3* bid, dim3* block_dim, dim3* grid_dim, int* warp_size);
void __cudaRegisterVar(void** handle, char* host_var, char* device_address, const char* device_name, int ext,
                       size_t size, int constant, int global);
}

using namespace rcuda::client::driver;

namespace {

// One loaded module. Its CUfunction handles point at its Kernel records;
// the records' addresses are the host stubs the runtime knows them by.
struct DriverModule {
  struct Kernel {
    DriverModule* module;
    std::string name;
    std::vector<rcuda::KernelParamInfo> params;
  };
  struct Global {
    std::string name;
    uint64_t size;
  };
  std::string image;  // the fatbinary, kept for the process (the registry points into it)
  std::vector<std::unique_ptr<Kernel>> kernels;
  std::vector<std::unique_ptr<Global>> globals;  // addresses = host shadows
  bool unloaded = false;
};

std::mutex g_mu;
std::vector<std::unique_ptr<DriverModule>>* g_modules = new std::vector<std::unique_ptr<DriverModule>>;

// The kernels and variables of every entry of the fatbinary.
CUresult Describe(std::string_view fatbin, DriverModule* module) {
  std::vector<rcuda::FatbinEntry> entries;
  if (!rcuda::ParseFatbinary(fatbin, &entries).ok()) return CUDA_ERROR_INVALID_IMAGE;
  for (const auto& entry : entries) {
    std::string content;
    rcuda::ModuleImage image;
    if (!rcuda::EntryContent(entry, &content).ok()) return CUDA_ERROR_INVALID_IMAGE;
    rcuda::Status s = entry.kind == rcuda::FatbinEntry::kCubin ? rcuda::ParseCubin(content, &image)
                                                               : rcuda::ParsePtx(content, &image);
    if (!s.ok()) return CUDA_ERROR_INVALID_IMAGE;
    for (const auto& k : image.kernels) {
      bool known = false;
      for (const auto& have : module->kernels) known = known || have->name == k.name;
      if (!known) module->kernels.push_back(std::make_unique<DriverModule::Kernel>(
                      DriverModule::Kernel{module, k.name, k.params}));
    }
    for (const auto& v : image.variables) {
      bool known = false;
      for (const auto& have : module->globals) known = known || have->name == v.name;
      if (!known) module->globals.push_back(std::make_unique<DriverModule::Global>(DriverModule::Global{v.name, v.size}));
    }
  }
  return CUDA_SUCCESS;
}

// A module from an image: a fatbinary as it is; a bare cubin or PTX text
// (what NVRTC gives, or a .cubin/.ptx file) wrapped in a fatbinary first,
// since the runtime's registry takes fatbinaries (common/fatbin_image.h).
// `size` is the image's size when the caller knows it (a file), else 0: as
// natively, a fatbinary's and a cubin's size come from their headers and PTX
// ends at its NUL.
CUresult Load(CUmodule* out, const void* data, size_t size = 0) {
  RCUDA_DRIVER_REQUIRE_INIT();
  if (!out || !data) return CUDA_ERROR_INVALID_VALUE;
  std::string fatbin;
  if (size_t fatbin_size = rcuda::FatbinarySize(data)) {
    if (size && fatbin_size > size) return CUDA_ERROR_INVALID_IMAGE;
    fatbin.assign(static_cast<const char*>(data), fatbin_size);
  } else {
    const char* bytes = static_cast<const char*>(data);
    size_t elf = rcuda::CudaElfSize(data, size ? size : SIZE_MAX);
    std::string_view image = elf ? std::string_view(bytes, elf)
                             : size ? std::string_view(bytes, size)
                                    : std::string_view(bytes);
    if (rcuda::Status s = rcuda::WrapInFatbinary(image, &fatbin); !s.ok()) {
      std::fprintf(stderr, "rcuda: cuModuleLoadData: not a module image (%s)\n", s.message().c_str());
      return CUDA_ERROR_INVALID_IMAGE;
    }
  }
  auto module = std::make_unique<DriverModule>();
  module->image = std::move(fatbin);
  if (CUresult r = Describe(module->image, module.get())) return r;
  void** handle = __cudaRegisterFatBinary(module->image.data());
  for (auto& k : module->kernels) {
    __cudaRegisterFunction(handle, reinterpret_cast<const char*>(k.get()), k->name.data(), k->name.c_str(), -1,
                           nullptr, nullptr, nullptr, nullptr, nullptr);
  }
  for (auto& g : module->globals) {
    __cudaRegisterVar(handle, reinterpret_cast<char*>(g.get()), g->name.data(), g->name.c_str(), 0, g->size, 0, 0);
  }
  __cudaRegisterFatBinaryEnd(handle);
  std::lock_guard lock(g_mu);
  *out = reinterpret_cast<CUmodule>(module.get());
  Remember(ContextResource::kModule, module.get());
  g_modules->push_back(std::move(module));
  return CUDA_SUCCESS;
}

DriverModule* Find(CUmodule handle) {
  std::lock_guard lock(g_mu);
  for (auto& m : *g_modules)
    if (reinterpret_cast<CUmodule>(m.get()) == handle && !m->unloaded) return m.get();
  return nullptr;
}

DriverModule::Kernel* FindKernel(CUfunction f) {
  std::lock_guard lock(g_mu);
  for (auto& m : *g_modules)
    for (auto& k : m->kernels)
      if (reinterpret_cast<CUfunction>(k.get()) == f && !m->unloaded) return k.get();
  return nullptr;
}

}  // namespace

extern "C" {

RCUDA_DRIVER_EXPORT CUresult cuModuleLoadData(CUmodule* module, const void* image) { return Load(module, image); }
RCUDA_DRIVER_EXPORT CUresult cuModuleLoadDataEx(CUmodule* module, const void* image, unsigned int, CUjit_option*,
                                                void**) {
  return Load(module, image);  // JIT options are the worker driver's defaults
}
// A .cubin, .ptx or .fatbin file, read here (the client's file system, as
// natively) and loaded as an image of the file's size.
RCUDA_DRIVER_EXPORT CUresult cuModuleLoad(CUmodule* module, const char* fname) {
  RCUDA_DRIVER_REQUIRE_INIT();
  if (!module || !fname) return CUDA_ERROR_INVALID_VALUE;
  std::ifstream in(fname, std::ios::binary);
  if (!in) return CUDA_ERROR_FILE_NOT_FOUND;
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return CUDA_ERROR_FILE_NOT_FOUND;
  if (bytes.empty()) return CUDA_ERROR_INVALID_IMAGE;
  size_t size = bytes.size();
  bytes.push_back('\0');  // PTX text ends at its NUL
  return Load(module, bytes.data(), size);
}
RCUDA_DRIVER_EXPORT CUresult cuModuleLoadFatBinary(CUmodule* module, const void* fatbin) { return Load(module, fatbin); }

// The module stays loaded on the session until it ends (as the runtime's
// modules do); its handles are refused from now on.
RCUDA_DRIVER_EXPORT CUresult cuModuleUnload(CUmodule handle) {
  RCUDA_DRIVER_REQUIRE_INIT();
  DriverModule* m = Find(handle);
  if (!m) return CUDA_ERROR_INVALID_HANDLE;
  Forget(ContextResource::kModule, m);
  std::lock_guard lock(g_mu);
  m->unloaded = true;
  return CUDA_SUCCESS;
}

RCUDA_DRIVER_EXPORT CUresult cuModuleGetFunction(CUfunction* function, CUmodule handle, const char* name) {
  RCUDA_DRIVER_REQUIRE_INIT();
  if (!function || !name) return CUDA_ERROR_INVALID_VALUE;
  DriverModule* m = Find(handle);
  if (!m) return CUDA_ERROR_INVALID_HANDLE;
  for (auto& k : m->kernels) {
    if (k->name == name) {
      *function = reinterpret_cast<CUfunction>(k.get());
      return CUDA_SUCCESS;
    }
  }
  return CUDA_ERROR_NOT_FOUND;
}

RCUDA_DRIVER_EXPORT CUresult cuModuleGetGlobal_v2(CUdeviceptr* dptr, size_t* bytes, CUmodule handle,
                                                  const char* name) {
  RCUDA_DRIVER_REQUIRE_INIT();
  if (!name) return CUDA_ERROR_INVALID_VALUE;
  DriverModule* m = Find(handle);
  if (!m) return CUDA_ERROR_INVALID_HANDLE;
  for (auto& g : m->globals) {
    if (g->name != name) continue;
    void* address = nullptr;
    if (cudaError_t e = cudaGetSymbolAddress(&address, g.get())) return FromRuntime(e);
    if (dptr) *dptr = reinterpret_cast<uintptr_t>(address);
    if (bytes) *bytes = g->size;
    return CUDA_SUCCESS;
  }
  return CUDA_ERROR_NOT_FOUND;
}

RCUDA_DRIVER_EXPORT CUresult cuFuncGetAttribute(int* value, CUfunction_attribute attribute, CUfunction f) {
  RCUDA_DRIVER_REQUIRE_INIT();
  if (!value) return CUDA_ERROR_INVALID_VALUE;
  if (!FindKernel(f)) return CUDA_ERROR_INVALID_HANDLE;
  cudaFuncAttributes a;
  if (cudaError_t e = cudaFuncGetAttributes(&a, reinterpret_cast<const void*>(f))) return FromRuntime(e);
  switch (attribute) {
    case CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK: *value = a.maxThreadsPerBlock; break;
    case CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES: *value = static_cast<int>(a.sharedSizeBytes); break;
    case CU_FUNC_ATTRIBUTE_CONST_SIZE_BYTES: *value = static_cast<int>(a.constSizeBytes); break;
    case CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES: *value = static_cast<int>(a.localSizeBytes); break;
    case CU_FUNC_ATTRIBUTE_NUM_REGS: *value = a.numRegs; break;
    case CU_FUNC_ATTRIBUTE_PTX_VERSION: *value = a.ptxVersion; break;
    case CU_FUNC_ATTRIBUTE_BINARY_VERSION: *value = a.binaryVersion; break;
    case CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES: *value = a.maxDynamicSharedSizeBytes; break;
    default: return static_cast<CUresult>(Unsupported("cuFuncGetAttribute (this attribute)"));
  }
  return CUDA_SUCCESS;
}

// kernelParams go to the runtime as they are; an `extra` buffer
// (CU_LAUNCH_PARAM_BUFFER_POINTER/SIZE) is split into parameter addresses by
// the kernel's layout, read from its image.
RCUDA_DRIVER_EXPORT CUresult cuLaunchKernel(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                                            unsigned by, unsigned bz, unsigned shared, CUstream stream,
                                            void** params, void** extra) {
  RCUDA_DRIVER_REQUIRE_INIT();
  DriverModule::Kernel* k = FindKernel(f);
  if (!k) return CUDA_ERROR_INVALID_HANDLE;
  std::vector<void*> from_buffer;
  if (extra) {
    if (params) return CUDA_ERROR_INVALID_VALUE;
    char* buffer = nullptr;
    size_t size = SIZE_MAX;
    for (size_t i = 0; i < 64 && extra[i] != CU_LAUNCH_PARAM_END; i += 2) {
      if (extra[i] == CU_LAUNCH_PARAM_BUFFER_POINTER) buffer = static_cast<char*>(extra[i + 1]);
      else if (extra[i] == CU_LAUNCH_PARAM_BUFFER_SIZE) size = *static_cast<size_t*>(extra[i + 1]);
      else return CUDA_ERROR_INVALID_VALUE;
    }
    if (!buffer && !k->params.empty()) return CUDA_ERROR_INVALID_VALUE;
    for (const auto& p : k->params) {
      if (size != SIZE_MAX && (p.offset > size || p.size > size - p.offset)) return CUDA_ERROR_INVALID_VALUE;
      from_buffer.push_back(buffer + p.offset);
    }
    params = from_buffer.data();
  }
  cudaError_t e = cudaLaunchKernel(reinterpret_cast<const void*>(f), dim3(gx, gy, gz), dim3(bx, by, bz), params,
                                   shared, reinterpret_cast<cudaStream_t>(stream));
  return FromRuntime(e);
}

RCUDA_DRIVER_EXPORT CUresult cuLaunchCooperativeKernel(CUfunction f, unsigned gx, unsigned gy, unsigned gz,
                                                       unsigned bx, unsigned by, unsigned bz, unsigned shared,
                                                       CUstream stream, void** params) {
  RCUDA_DRIVER_REQUIRE_INIT();
  if (!FindKernel(f)) return CUDA_ERROR_INVALID_HANDLE;
  return FromRuntime(cudaLaunchCooperativeKernel(reinterpret_cast<const void*>(f), dim3(gx, gy, gz),
                                                 dim3(bx, by, bz), params, shared,
                                                 reinterpret_cast<cudaStream_t>(stream)));
}

// The attributes a program may set; CUfunction_attribute and
// cudaFuncAttribute share these values.
RCUDA_DRIVER_EXPORT CUresult cuFuncSetAttribute(CUfunction f, CUfunction_attribute attribute, int value) {
  RCUDA_DRIVER_REQUIRE_INIT();
  if (!FindKernel(f)) return CUDA_ERROR_INVALID_HANDLE;
  cudaFuncAttribute runtime;
  switch (attribute) {
    case CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES: runtime = cudaFuncAttributeMaxDynamicSharedMemorySize; break;
    case CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT:
      runtime = cudaFuncAttributePreferredSharedMemoryCarveout;
      break;
    default: return static_cast<CUresult>(Unsupported("cuFuncSetAttribute (this attribute)"));
  }
  return FromRuntime(cudaFuncSetAttribute(reinterpret_cast<const void*>(f), runtime, value));
}

RCUDA_DRIVER_EXPORT CUresult cuFuncSetCacheConfig(CUfunction f, CUfunc_cache config) {
  RCUDA_DRIVER_REQUIRE_INIT();
  if (!FindKernel(f)) return CUDA_ERROR_INVALID_HANDLE;
  return FromRuntime(cudaFuncSetCacheConfig(reinterpret_cast<const void*>(f), static_cast<cudaFuncCache>(config)));
}

RCUDA_DRIVER_EXPORT CUresult cuOccupancyMaxActiveBlocksPerMultiprocessor(int* blocks, CUfunction f, int block_size,
                                                                         size_t dynamic_shared) {
  RCUDA_DRIVER_REQUIRE_INIT();
  if (!FindKernel(f)) return CUDA_ERROR_INVALID_HANDLE;
  return FromRuntime(cudaOccupancyMaxActiveBlocksPerMultiprocessor(blocks, reinterpret_cast<const void*>(f),
                                                                   block_size, dynamic_shared));
}

}  // extern "C"
