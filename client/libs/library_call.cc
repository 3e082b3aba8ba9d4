#include "client/libs/library_call.h"

#include <cstdio>
#include <cstring>
#include <mutex>
#include <unordered_map>

namespace rcuda::libs {
namespace {

// Pointer modes by handle id (absent: host, each handle's initial mode).
std::mutex& ModesMu() {
  static auto* mu = new std::mutex;  // never destroyed: exports may run at exit
  return *mu;
}
std::unordered_map<uintptr_t, int64_t>& Modes() {
  static auto* modes = new std::unordered_map<uintptr_t, int64_t>;
  return *modes;
}

int64_t PointerModeOf(const void* handle) {
  std::lock_guard lock(ModesMu());
  auto it = Modes().find(reinterpret_cast<uintptr_t>(handle));
  return it == Modes().end() ? 0 : it->second;
}

}  // namespace

void LibraryCall::Stream(const void* stream) {
  uint64_t handle = 0;
  if (rcudaPrivateStreamHandle(const_cast<void*>(stream), &handle) != 0) refused_ = true;
  Value(static_cast<int64_t>(handle));
}

void LibraryCall::Scalar(const void* handle, const void* p, size_t size) {
  int64_t mode = PointerModeOf(handle);
  Value(mode);
  if (mode == 1) {
    Pointer(p);
    return;
  }
  if (p == nullptr) {
    refused_ = true;
    return;
  }
  auto* b = static_cast<const uint8_t*>(p);
  bytes_.insert(bytes_.end(), b, b + size);
}

void LibraryCall::Result(const void* handle, void* p, size_t size) {
  int64_t mode = PointerModeOf(handle);
  Value(mode);
  if (mode == 1) {
    Pointer(p);
    return;
  }
  NeedOut(p);
  result_bytes_ += size;
}

bool LibraryCall::Send(size_t values) {
  if (refused_) {
    status_ = invalid_value_;
    return false;
  }
  rcudaLibraryCall call{library_, function_, values_.data(), values_.size(), bytes_.data(), bytes_.size()};
  int e = rcudaPrivateLibraryCall(&call, &reply_);
  if (e != 0) {
    std::fprintf(stderr, "rcuda: %s: the session could not carry the call (CUDA error %d)\n", name_, e);
    status_ = lost_;
    return false;
  }
  status_ = reply_.status;
  if (status_ != 0) return false;
  if (reply_.value_count != values || reply_.byte_count != result_bytes_) {
    std::fprintf(stderr, "rcuda: %s: the server answered %zu values and %zu bytes, not %zu and %zu\n", name_,
                 reply_.value_count, reply_.byte_count, values, result_bytes_);
    status_ = lost_;
    return false;
  }
  return true;
}

void* LibraryCall::TakeStream() {
  void* stream = nullptr;
  if (rcudaPrivateStreamOfHandle(static_cast<uint64_t>(TakeValue()), &stream) != 0) status_ = invalid_value_;
  return stream;
}

void LibraryCall::TakeResult(void* p, size_t size) {
  if (next_byte_ + size > reply_.byte_count) return;  // device mode: nothing came back
  std::memcpy(p, reply_.bytes + next_byte_, size);
  next_byte_ += size;
}

void LibraryCall::RecordPointerMode(const void* handle, int64_t mode) {
  std::lock_guard lock(ModesMu());
  Modes()[reinterpret_cast<uintptr_t>(handle)] = mode;
}

void LibraryCall::ForgetHandle(const void* handle) {
  std::lock_guard lock(ModesMu());
  Modes().erase(reinterpret_cast<uintptr_t>(handle));
}

}  // namespace rcuda::libs
