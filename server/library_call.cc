#include "server/library_call.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <type_traits>

#include <spdlog/spdlog.h>

#include "common/cuda_data_type_bytes.h"

namespace rcuda::library {

// ---- LibrarySessionState ---------------------------------------------------

void* LibrarySessionState::Resolve(const LibraryDescription& library, const char* name) {
  Opened& o = opened_[library.wire_id];
  if (o.failed) return nullptr;
  if (o.dl == nullptr) {
    const char* env = std::getenv(library.path_env);
    const char* path = env != nullptr && env[0] != '\0' ? env : library.soname;
    o.dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (o.dl == nullptr) {
      const char* why = dlerror();
      spdlog::error("library forwarding: cannot open {} ({}={}): {}; its calls answer NOT_SUPPORTED", path,
                    library.path_env, env ? env : "unset", why ? why : "?");
      o.failed = true;
      return nullptr;
    }
    spdlog::info("library forwarding: opened {} for {}", path, library.name);
  }
  auto it = o.symbols.find(name);
  if (it != o.symbols.end()) return it->second;
  void* fn = dlsym(o.dl, name);
  if (fn == nullptr) spdlog::warn("library forwarding: {} has no {}", library.name, name);
  o.symbols.emplace(name, fn);
  return fn;
}

void LibrarySessionState::Release() {
  for (auto& [id, handle] : handles_) {
    if (handle.library == nullptr) continue;
    const char* name = handle.klass == 0 ? handle.library->destroy
                       : static_cast<size_t>(handle.klass) <= handle.library->class_count
                           ? handle.library->class_destroy[handle.klass - 1]
                           : "";
    if (name[0] == '\0') continue;
    void* destroy = Resolve(*handle.library, name);
    if (destroy == nullptr) continue;
    int status = handle.library->int_handles ? reinterpret_cast<int (*)(int)>(destroy)(handle.real_int)
                                             : reinterpret_cast<int (*)(void*)>(destroy)(handle.real);
    if (status != 0) spdlog::warn("library forwarding: {} of a handle left at the session's end: {}", name, status);
  }
  handles_.clear();
  extensions_.clear();
  for (auto& [wire_id, o] : opened_) {
    // The library stays loaded (dlclose of a CUDA library with live state is
    // unsafe); the process ends with the session.
    o.symbols.clear();
  }
}

// ---- LibraryCallContext: decoding ------------------------------------------

bool LibraryCallContext::Value(int64_t* v) {
  if (next_value_ >= values_.size()) return false;
  *v = values_[next_value_++];
  return true;
}

bool LibraryCallContext::Int32(int64_t* v) {
  return Value(v) && *v >= INT32_MIN && *v <= INT32_MAX;
}

bool LibraryCallContext::PointerMode(int64_t* v) { return Value(v) && (*v == 0 || *v == 1); }

bool LibraryCallContext::UInt32(int64_t* v) { return Value(v) && *v >= 0 && *v <= UINT32_MAX; }

bool LibraryCallContext::UInt64(uint64_t* v) {
  int64_t bits = 0;
  if (!Value(&bits)) return false;
  *v = static_cast<uint64_t>(bits);
  return true;
}

bool LibraryCallContext::Float32(float* v) {
  int64_t bits = 0;
  if (!Value(&bits) || bits < 0 || bits > UINT32_MAX) return false;
  const uint32_t narrow = static_cast<uint32_t>(bits);
  std::memcpy(v, &narrow, sizeof narrow);
  return true;
}

bool LibraryCallContext::Float64(double* v) {
  int64_t bits = 0;
  if (!Value(&bits)) return false;
  std::memcpy(v, &bits, sizeof bits);
  return true;
}

const LibraryHandle* LibraryCallContext::FindHandle(int64_t id, int klass) const {
  if (!session_.handles->Has(HandleKind::kLibrary, static_cast<uint64_t>(id))) return nullptr;
  auto& handles = session_.state->handles();
  auto it = handles.find(static_cast<uint64_t>(id));
  if (it == handles.end() || it->second.library != &library_ || it->second.klass != klass) return nullptr;
  return &it->second;
}

bool LibraryCallContext::Handle(int64_t* id, void** real, int klass) {
  return Value(id) && RealHandle(*id, klass, real);
}

bool LibraryCallContext::RealHandle(int64_t id, int klass, void** real) const {
  const LibraryHandle* h = FindHandle(id, klass);
  if (h == nullptr) return false;
  *real = h->real;
  return true;
}

bool LibraryCallContext::IntHandle(int64_t* id, int* real) {
  return Value(id) && RealIntHandle(*id, real);
}

bool LibraryCallContext::RealIntHandle(int64_t id, int* real) const {
  const LibraryHandle* h = FindHandle(id);
  if (h == nullptr || !library_.int_handles) return false;
  *real = h->real_int;
  return true;
}

bool LibraryCallContext::HasHandleRoom() const {
  // An int handle's id travels back as the int the program holds.
  if (library_.int_handles && session_.state->LastHandleId() >= INT32_MAX) return false;
  return session_.handles->HasRoom();
}

bool LibraryCallContext::Stream(void** native) {
  int64_t stream = 0;
  if (!Value(&stream) || !session_.handles->Has(HandleKind::kStream, static_cast<uint64_t>(stream))) return false;
  return session_.executor->NativeStream(static_cast<uint64_t>(stream), native).ok();
}

bool LibraryCallContext::Scalar(int64_t handle, size_t size, const void** p) {
  const LibraryHandle* h = FindHandle(handle);
  int64_t mode = 0;
  // The client's idea of the pointer mode must be the worker's: a host
  // value read as a device pointer (or the reverse) never reaches the library.
  if (h == nullptr || size == 0 || !Value(&mode) || mode != h->pointer_mode) return false;
  if (mode == 0) {
    if (size > sizeof(std::array<uint64_t, 2>) || bytes_.size() - next_byte_ < size) return false;
    scalars_.push_back(std::make_unique<std::array<uint64_t, 2>>());
    scalars_.back()->fill(0);
    std::memcpy(scalars_.back()->data(), bytes_.data() + next_byte_, size);
    *p = scalars_.back()->data();
    next_byte_ += size;
    return true;
  }
  int64_t ptr = 0;
  if (!Value(&ptr) || !DeviceRange(ptr, static_cast<__int128>(size))) return false;
  *p = reinterpret_cast<const void*>(ptr);
  return true;
}

template <class Int>
bool LibraryCallContext::IntArray(__int128 count, std::vector<std::unique_ptr<std::vector<Int>>>* arrays, Int** p) {
  int64_t present = 0;
  if (!Value(&present) || (present != 0 && present != 1)) return false;
  if (present == 0) {
    *p = nullptr;
    return true;
  }
  if (count < 0 || count > kMaxInts) return false;
  // One element at least, so that an empty array is not a null pointer.
  arrays->push_back(std::make_unique<std::vector<Int>>(static_cast<size_t>(count) + 1, 0));
  std::vector<Int>& values = *arrays->back();
  for (size_t i = 0; i < static_cast<size_t>(count); ++i) {
    int64_t v = 0;
    if (!(std::is_same_v<Int, int> ? Int32(&v) : Value(&v))) return false;
    values[i] = static_cast<Int>(v);
  }
  *p = values.data();
  return true;
}

bool LibraryCallContext::Ints(__int128 count, int** p) { return IntArray(count, &int_arrays_, p); }

bool LibraryCallContext::Int64s(__int128 count, long long** p) { return IntArray(count, &int64_arrays_, p); }

bool LibraryCallContext::HostScratch(__int128 bytes, void** p) {
  int64_t present = 0;
  if (!Value(&present) || (present != 0 && present != 1)) return false;
  *p = nullptr;
  if (present == 0) return true;
  if (bytes < 0 || bytes > kMaxHostScratch) {
    spdlog::warn("library forwarding: a host workspace of {} bytes refused (at most {})", static_cast<int64_t>(
                     std::clamp<__int128>(bytes, INT64_MIN, INT64_MAX)), kMaxHostScratch);
    return false;
  }
  host_scratch_.push_back(std::make_unique<std::vector<uint8_t>>(std::max<size_t>(1, static_cast<size_t>(bytes))));
  *p = host_scratch_.back()->data();
  return true;
}

void LibraryCallContext::SettleHostScratch() {
  if (host_scratch_.empty() || session_.executor == nullptr) return;
  if (Status s = session_.executor->Synchronize(); !s.ok())
    spdlog::warn("library forwarding: waiting for the work that used a host workspace: {}", s.ToString());
}

bool LibraryCallContext::DataType(int64_t* v) { return Int32(v) && CudaDataTypeBytes(*v) != 0; }

bool LibraryCallContext::TypedScalar(int64_t handle, int64_t type, const void** p) {
  const size_t size = CudaDataTypeBytes(type);
  return size != 0 && Scalar(handle, size, p);
}

bool LibraryCallContext::Result(int64_t handle, size_t size, void** p) {
  const LibraryHandle* h = FindHandle(handle);
  int64_t mode = 0;
  if (h == nullptr || !Value(&mode) || mode != h->pointer_mode || size > 16) return false;
  if (mode == 0) {
    results_.push_back(std::make_unique<std::array<uint8_t, 16>>());
    results_.back()->fill(0);
    result_sizes_.push_back(size);
    *p = results_.back()->data();
    return true;
  }
  int64_t ptr = 0;
  if (!Value(&ptr) || !DeviceRange(ptr, static_cast<__int128>(size))) return false;
  *p = reinterpret_cast<void*>(ptr);
  return true;
}

bool LibraryCallContext::DeviceRange(int64_t ptr, __int128 size) const {
  if (size <= 0) return true;
  if (size > static_cast<__int128>(UINT64_MAX)) return false;
  return session_.memory->Contains(static_cast<uint64_t>(ptr), static_cast<uint64_t>(size));
}

bool LibraryCallContext::DevicePointerArray(int64_t ptr, __int128 count, __int128 size) const {
  if (count <= 0) return true;
  if (count > kMaxPointerArray || !DeviceRange(ptr, count * static_cast<__int128>(sizeof(uint64_t)))) return false;
  std::vector<uint64_t> pointers(static_cast<size_t>(count));
  uint8_t* into = reinterpret_cast<uint8_t*>(pointers.data());
  const size_t bytes = pointers.size() * sizeof(uint64_t);
  size_t filled = 0;
  // One synchronization a call: no device work is queued between the
  // arrays of one call (the session's thread decodes it), so the arrays a
  // batched call names (up to three) are read after the first one's.
  Status read = device_idle_ ? Status::Ok() : session_.executor->Synchronize();
  device_idle_ = read.ok();
  if (read.ok()) {
    read = session_.executor->CopyFromDevice(static_cast<uint64_t>(ptr), bytes, /*stream=*/0,
                                             [&](const void* src, size_t n) {
                                               if (n > bytes - filled) return Status::InvalidValue("overlong copy");
                                               std::memcpy(into + filled, src, n);
                                               filled += n;
                                               return Status::Ok();
                                             });
  }
  if (!read.ok() || filled != bytes) {
    spdlog::warn("library forwarding: cannot read an array of {} device pointers: {}", pointers.size(),
                 read.ok() ? "short copy" : read.ToString());
    return false;
  }
  for (uint64_t p : pointers) {
    if (!DeviceRange(static_cast<int64_t>(p), size)) return false;
  }
  return true;
}

// ---- After the call ----------------------------------------------------------

int64_t LibraryCallContext::AddHandle(void* real, int klass) {
  uint64_t id = session_.state->NextHandleId();
  LibraryHandle h{real, 0, &library_};
  h.klass = klass;
  session_.state->handles()[id] = h;
  session_.handles->Add(HandleKind::kLibrary, id, /*counted=*/true);
  out_values_.push_back(static_cast<int64_t>(id));
  return static_cast<int64_t>(id);
}

int64_t LibraryCallContext::AddIntHandle(int real) {
  uint64_t id = session_.state->NextHandleId();
  LibraryHandle h{nullptr, 0, &library_, real};
  session_.state->handles()[id] = h;
  session_.handles->Add(HandleKind::kLibrary, id, /*counted=*/true);
  out_values_.push_back(static_cast<int64_t>(id));
  return static_cast<int64_t>(id);
}

void LibraryCallContext::DropHandle(int64_t id) {
  session_.state->handles().erase(static_cast<uint64_t>(id));
  session_.handles->Remove(HandleKind::kLibrary, static_cast<uint64_t>(id));
}

void LibraryCallContext::SetPointerMode(int64_t handle, int64_t mode) {
  auto& handles = session_.state->handles();
  auto it = handles.find(static_cast<uint64_t>(handle));
  if (it != handles.end()) it->second.pointer_mode = mode;
}

bool LibraryCallContext::OutStream(void* native) {
  uint64_t stream = 0;
  if (!session_.executor->StreamHandleOf(native, &stream).ok()) return false;
  out_values_.push_back(static_cast<int64_t>(stream));
  return true;
}

void LibraryCallContext::EmitResults() {
  for (size_t i = 0; i < results_.size(); ++i) {
    out_bytes_.insert(out_bytes_.end(), results_[i]->begin(), results_[i]->begin() + result_sizes_[i]);
  }
}

// ---- Serving ---------------------------------------------------------------

int ServeLibraryCall(uint32_t library, uint32_t function, std::span<const int64_t> values,
                     std::span<const uint8_t> bytes, const LibrarySession& session, bool* known,
                     std::vector<int64_t>* out_values, std::vector<uint8_t>* out_bytes) {
  const LibraryDescription* d = FindLibrary(library);
  *known = d != nullptr;
  if (d == nullptr) return 0;
  if (function >= d->function_count) return d->invalid_value;
  LibraryCallContext c(*d, session, values, bytes);
  int status = d->functions[function].forward(c);
  if (status == 0) {
    *out_values = c.out_values();
    *out_bytes = c.out_bytes();
  }
  return status;
}

}  // namespace rcuda::library
