#include "tests/fake_driver/library.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "common/fatbin_image.h"
#include "tests/fake_driver/driver_state.h"
#include "tests/fake_driver/fake_gpu.h"
#include "tests/fake_driver/host_kernels.h"

namespace fake {
namespace {

std::unordered_map<const void*, std::shared_ptr<Library>>& Libraries() {
  static auto* libraries = new std::unordered_map<const void*, std::shared_ptr<Library>>;
  return *libraries;
}

CUresult FromStatus(const rcuda::Status& s) {
  Log("cannot load the module: %s", s.message().c_str());
  return s.ToCudaError() == rcuda::kCudaErrorNoKernelImageForDevice ? CUDA_ERROR_NO_BINARY_FOR_GPU : CUDA_ERROR_INVALID_IMAGE;
}

}  // namespace

Library::~Library() {
  for (auto& [name, v] : variables) UnmapPages(reinterpret_cast<void*>(v.address), std::max<uint64_t>(v.size, 1));
}

CUresult LoadLibrary(const void* code, std::shared_ptr<Library>* out) {
  if (!code) return CUDA_ERROR_INVALID_VALUE;
  auto library = std::make_shared<Library>();
  rcuda::Status s;
  if (size_t size = rcuda::FatbinarySize(code)) {
    s = rcuda::LoadModuleImage(std::string_view(static_cast<const char*>(code), size), gpu::kMajor * 10 + gpu::kMinor,
                               &library->image);
  } else if (size_t elf = rcuda::CudaElfSize(code, SIZE_MAX)) {
    s = rcuda::ParseCubin(std::string_view(static_cast<const char*>(code), elf), &library->image);
  } else {
    // PTX is NUL-terminated text.
    s = rcuda::ParsePtx(static_cast<const char*>(code), &library->image);
  }
  if (!s.ok()) return FromStatus(s);
  int device = CurrentContext() ? CurrentContext()->device : 0;
  for (const auto& var : library->image.variables) {
    void* p = MapPages(std::max<uint64_t>(var.size, 1));
    if (!p) return CUDA_ERROR_OUT_OF_MEMORY;
    std::memcpy(p, var.init.data(), std::min<size_t>(var.init.size(), var.size));
    library->variables[var.name] = Library::Variable{reinterpret_cast<uint64_t>(p), var.size};
    Allocation a;
    a.base = reinterpret_cast<uint64_t>(p);
    a.size = var.size;
    a.kind = Allocation::Kind::kVariable;
    a.device = device;
    D().device_memory.Add(a);
  }
  Libraries()[library.get()] = library;
  D().libraries.Add(library.get());
  *out = std::move(library);
  return CUDA_SUCCESS;
}

void UnloadLibrary(Library* library) {
  for (auto& [name, v] : library->variables) D().device_memory.Remove(v.address);
  for (auto& [name, k] : library->kernels) D().kernels.Remove(k.get());
  D().libraries.Remove(library);
  Libraries().erase(library);
}

std::shared_ptr<Library> FindLibrary(CUlibrary handle) {
  auto it = Libraries().find(handle);
  return it == Libraries().end() ? nullptr : it->second;
}

CUresult GetKernel(Library* library, const char* name, Kernel** kernel) {
  auto it = library->kernels.find(name);
  if (it != library->kernels.end()) {
    *kernel = it->second.get();
    return CUDA_SUCCESS;
  }
  const rcuda::CubinKernel* image = library->image.FindKernel(name);
  if (!image) return CUDA_ERROR_NOT_FOUND;
  auto k = std::make_unique<Kernel>();
  k->library = library;
  k->name = name;
  k->image = image;
  k->host = FindHostKernel(name);
  k->max_threads = image->max_threads ? static_cast<int>(image->max_threads) : gpu::kMaxThreadsPerBlock;
  k->max_dynamic_shared = std::max(0, gpu::kSharedPerBlock - static_cast<int>(image->static_shared_bytes));
  *kernel = k.get();
  D().kernels.Add(k.get());
  library->kernels[name] = std::move(k);
  return CUDA_SUCCESS;
}

CUresult KernelOf(const void* handle, Kernel** kernel) {
  if (!D().kernels.Has(handle)) return CUDA_ERROR_INVALID_HANDLE;
  *kernel = static_cast<Kernel*>(const_cast<void*>(handle));
  return CUDA_SUCCESS;
}

}  // namespace fake
