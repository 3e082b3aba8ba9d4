// One call of a forwarded math library function, as the generated thunks
// (gen_forwarding.py) make it: the arguments encoded by their kinds, sent
// as a LibraryCall through our libcudart's session
// (client/private_library_abi.h), the out values taken back in argument
// order. A refused argument (a null out pointer, a stream of another
// device) is the library's invalid-value status without a round trip; a
// call the session could not carry is its "lost" status, logged.
//
// Library handles are ids the worker hands out; the client remembers each
// handle's pointer mode (set by the `pointer_mode` argument), which decides
// whether a scalar travels by value or as a device pointer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "client/private_library_abi.h"

namespace rcuda::libs {

class LibraryCall {
 public:
  LibraryCall(uint32_t library, uint32_t function, const char* name, int invalid_value, int lost)
      : library_(library), function_(function), name_(name), invalid_value_(invalid_value), lost_(lost) {}

  void Value(int64_t v) { values_.push_back(v); }
  // A float or double by value: its bits (a float's zero-extended).
  void ValueF32(float v) {
    uint32_t bits = 0;
    std::memcpy(&bits, &v, sizeof bits);
    Value(static_cast<int64_t>(bits));
  }
  void ValueF64(double v) {
    int64_t bits = 0;
    std::memcpy(&bits, &v, sizeof bits);
    Value(bits);
  }
  void Handle(const void* handle) { Value(static_cast<int64_t>(reinterpret_cast<uintptr_t>(handle))); }
  void Pointer(const void* device) { Handle(device); }
  // A host array of `count` ints, or null: a presence value, then the ints.
  // More than kMaxInts (server/library_call.h's cap) is refused here.
  void Ints(const int* p, int64_t count) { IntArray(p, count); }
  // The same of long longs (cuFFT's 64-bit plan arrays).
  void Int64s(const long long* p, int64_t count) { IntArray(p, count); }
  static constexpr int64_t kMaxInts = 16;

  void Stream(const void* stream);
  // An out pointer the library fills: null is refused.
  void NeedOut(const void* out) {
    if (out == nullptr) refused_ = true;
  }
  void Scalar(const void* handle, const void* p, size_t size);
  void Result(const void* handle, void* p, size_t size);

  // Sends the call; true when the library succeeded and answered the
  // `values` out values (and the bytes of host-mode results) expected.
  bool Send(size_t values);
  int status() const { return status_; }

  int64_t TakeValue() { return reply_.values[next_value_++]; }
  void* TakeStream();
  void TakeResult(void* p, size_t size);
  void RecordPointerMode(const void* handle, int64_t mode);
  void ForgetHandle(const void* handle);

 private:
  template <class Int>
  void IntArray(const Int* p, int64_t count) {
    if (p == nullptr) return Value(0);
    if (count < 0 || count > kMaxInts) {
      refused_ = true;
      return;
    }
    Value(1);
    for (int64_t i = 0; i < count; ++i) Value(p[i]);
  }

  const uint32_t library_, function_;
  const char* const name_;
  const int invalid_value_, lost_;
  std::vector<int64_t> values_;
  std::vector<uint8_t> bytes_;
  size_t result_bytes_ = 0;  // expected in the reply
  bool refused_ = false;
  int status_ = 0;
  rcudaLibraryReply reply_{};
  size_t next_value_ = 0, next_byte_ = 0;
};

}  // namespace rcuda::libs
