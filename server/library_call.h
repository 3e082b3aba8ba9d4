// Library forwarding on the worker (docs/design.md, "Library forwarding"):
// the calls of a CUDA math library (cuBLAS first) that a client's
// replacement library (client/libs/) sends as LibraryCall requests.
//
// The per-function code is generated from the library's description
// (client/libs/<name>.def, gen_library.py --worker): it decodes the call's
// arguments through a LibraryCallContext, which checks each against the
// session (the library handles it holds, its streams, its device memory),
// then calls the real function. The real library is dlopen()ed on a
// session's first call that uses it, from the path in its environment
// variable (RCUDA_WORKER_LIB<NAME>: RCUDA_WORKER_LIBCUBLAS, ...) or by its
// SONAME. Every check failure is the library's invalid-value status;
// nothing unchecked reaches the library.
//
// Not thread-safe: the session's thread owns it (calls run there, with the
// session's context current).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <typeindex>
#include <typeinfo>
#include <unordered_map>
#include <vector>

#include "common/allocation_table.h"
#include "server/executor.h"
#include "server/handle_table.h"

namespace rcuda::library {

class LibraryCallContext;

struct LibraryFunction {
  const char* name;
  int (*forward)(LibraryCallContext& c);  // returns the library's status
};

// One forwarded library, as its description says (generated).
struct LibraryDescription {
  const char* name;     // "cublas"
  const char* soname;   // dlopen()ed when the environment variable is unset
  const char* path_env; // RCUDA_WORKER_LIBCUBLAS, RCUDA_WORKER_LIBCURAND, ...
  uint32_t wire_id;     // LibraryCall.library
  const LibraryFunction* functions;  // by function id
  size_t function_count;
  const char* destroy;  // the function that destroys a handle, "" if none
  int invalid_value, not_supported, no_room;  // the library's status codes
  // Its handles are ints (cuFFT's cufftHandle), not pointers: LibraryHandle's
  // real_int, passed and destroyed as an int.
  bool int_handles = false;
  // The function that destroys the handles of each class 1, 2, ... (the
  // description's handle.new(CLASS): cuSPARSE's descriptors); class 0, the
  // library handle, is `destroy`'s.
  const char* const* class_destroy = nullptr;
  size_t class_count = 0;
};

// The libraries this worker forwards, by LibraryCall.library; null if none.
const LibraryDescription* FindLibrary(uint32_t wire_id);

// A library handle the session holds: the real one and its pointer mode
// (0 host, 1 device), which decides how its scalars travel.
struct LibraryHandle {
  void* real = nullptr;
  int64_t pointer_mode = 0;
  const LibraryDescription* library = nullptr;
  int real_int = 0;  // the real handle of an int_handles library
  int klass = 0;     // its class: 0 the library handle, 1... class_destroy's
};

// What a session holds of the libraries it used: the opened libraries, the
// resolved functions and its handles. Destroys the handles it still holds
// at its end (Release).
class LibrarySessionState {
 public:
  LibrarySessionState() = default;
  LibrarySessionState(const LibrarySessionState&) = delete;
  LibrarySessionState& operator=(const LibrarySessionState&) = delete;
  ~LibrarySessionState() { Release(); }

  // The real function `name` of `library`, opening the library on first
  // use; null (logged once) when it cannot be opened or lacks the name.
  void* Resolve(const LibraryDescription& library, const char* name);
  // Destroys every handle still held (on the session's thread) and forgets them.
  void Release();

  std::unordered_map<uint64_t, LibraryHandle>& handles() { return handles_; }
  uint64_t NextHandleId() { return ++last_handle_id_; }
  uint64_t LastHandleId() const { return last_handle_id_; }

  // What a description's hooks keep for the session (cuFFT's plan shapes,
  // server/cufft_plans.h): one T, made on first use, gone at Release.
  template <class T>
  T& Extension() {
    std::shared_ptr<void>& p = extensions_[std::type_index(typeid(T))];
    if (p == nullptr) p = std::make_shared<T>();
    return *static_cast<T*>(p.get());
  }

 private:
  struct Opened {
    void* dl = nullptr;
    bool failed = false;
    std::map<std::string, void*> symbols;
  };
  std::map<uint32_t, Opened> opened_;  // by wire id
  std::unordered_map<uint64_t, LibraryHandle> handles_;
  uint64_t last_handle_id_ = 0;
  std::map<std::type_index, std::shared_ptr<void>> extensions_;
};

// What one call may use of the session.
struct LibrarySession {
  LibrarySessionState* state;
  HandleTable* handles;
  const AllocationTable* memory;
  Executor* executor;
};

// One call being decoded: a cursor over its values and bytes, the checks,
// and the reply's out values and bytes.
class LibraryCallContext {
 public:
  LibraryCallContext(const LibraryDescription& library, const LibrarySession& session,
                     std::span<const int64_t> values, std::span<const uint8_t> bytes)
      : library_(library), session_(session), values_(values), bytes_(bytes) {}

  int invalid_value() const { return library_.invalid_value; }
  int not_supported() const { return library_.not_supported; }
  int no_room() const { return library_.no_room; }

  // ---- Decoding (false: the call is refused) ----------------------------
  bool Value(int64_t* v);
  bool Int32(int64_t* v);        // a value that fits an int
  bool PointerMode(int64_t* v);  // 0 or 1
  bool UInt32(int64_t* v);       // a value that fits an unsigned int
  bool UInt64(uint64_t* v);      // any value, its bits unsigned
  bool Float32(float* v);        // a float's bits, zero-extended
  bool Float64(double* v);       // a double's bits
  // One of the session's handles of this library, of class `klass`.
  bool Handle(int64_t* id, void** real, int klass = 0);
  bool IntHandle(int64_t* id, int* real);  // the same, of an int_handles library
  bool Stream(void** native);    // one of the session's streams (0: legacy)
  // A scalar argument of the handle: by value (host pointer mode), or a
  // device pointer of `size` bytes in the session's memory (device mode).
  bool Scalar(int64_t handle, size_t size, const void** p);
  // The same, of the size of the cudaDataType `type` (refused when unknown).
  bool TypedScalar(int64_t handle, int64_t type, const void** p);
  // A cudaDataType naming an element type CudaDataTypeBytes sizes.
  bool DataType(int64_t* v);
  // A host array of `count` ints (at most kMaxInts, client/libs/library_call.h's
  // cap too), or null: *p is the call's copy, valid until the call ends.
  bool Ints(__int128 count, int** p);
  // The same of long longs (cuFFT's 64-bit plan arrays), same cap.
  bool Int64s(__int128 count, long long** p);
  static constexpr int64_t kMaxInts = 16;
  // A host workspace the library uses during the call (cuSOLVER's 64-bit
  // API's bufferOnHost): a presence value, then the worker's own zeroed
  // buffer of `bytes` (at least one, so that present stays non-null), or
  // null. The client's buffer never travels: it is scratch. At most
  // kMaxHostScratch bytes; the buffer lives until the call's end, after
  // SettleHostScratch.
  bool HostScratch(__int128 bytes, void** p);
  static constexpr int64_t kMaxHostScratch = int64_t{256} << 20;
  // After the call: when it was given host scratch, waits until the device
  // is idle, since the library's queued work may still read or write it.
  void SettleHostScratch();
  // A result: the reply's (host mode) or a device pointer (device mode).
  bool Result(int64_t handle, size_t size, void** p);
  // Every value and byte was read.
  bool Finished() const { return next_value_ == values_.size() && next_byte_ == bytes_.size(); }
  // [ptr, ptr + size) lies in the session's memory; a size <= 0 names no
  // memory (the library touches none: n <= 0, k == 0) and passes.
  bool DeviceRange(int64_t ptr, __int128 size) const;
  // An array of `count` device pointers at `ptr` in the session's memory,
  // each to `size` bytes of the session's memory. The worker reads the array
  // back after synchronizing the device (the program may have written it on
  // any stream; once a call, however many arrays it names). It checks what the program asked, for a clear error; it is
  // no isolation, which the session's own worker process gives: a kernel of
  // the program could rewrite the array between this check and the library.
  // At most kMaxPointerArray pointers; count <= 0 names none.
  bool DevicePointerArray(int64_t ptr, __int128 count, __int128 size) const;
  static constexpr int64_t kMaxPointerArray = int64_t{1} << 20;
  // Room for one more handle (and, for int handles, an id that fits an int).
  bool HasHandleRoom() const;
  void* Resolve(const char* name) { return session_.state->Resolve(library_, name); }
  // For a description's hooks.
  LibrarySessionState& state() { return *session_.state; }
  const AllocationTable& memory() const { return *session_.memory; }
  bool RealIntHandle(int64_t id, int* real) const;
  bool RealHandle(int64_t id, int klass, void** real) const;

  // ---- After the call succeeded ------------------------------------------
  // A new handle of class `klass`: its id goes in the reply; returns the id.
  int64_t AddHandle(void* real, int klass = 0);
  int64_t AddIntHandle(int real);  // the same, of an int_handles library; returns the id
  void DropHandle(int64_t id);
  void SetPointerMode(int64_t handle, int64_t mode);
  void OutValue(int64_t v) { out_values_.push_back(v); }
  bool OutStream(void* native);  // the session's handle of a driver stream
  void EmitResults();            // host-mode results, in argument order

  const std::vector<int64_t>& out_values() const { return out_values_; }
  const std::vector<uint8_t>& out_bytes() const { return out_bytes_; }

 private:
  const LibraryHandle* FindHandle(int64_t id, int klass = 0) const;

  const LibraryDescription& library_;
  const LibrarySession session_;
  std::span<const int64_t> values_;
  std::span<const uint8_t> bytes_;
  size_t next_value_ = 0, next_byte_ = 0;
  // Host-mode results the library writes during the call (16 bytes each,
  // the largest scalar a description has: cuDoubleComplex).
  std::vector<std::unique_ptr<std::array<uint8_t, 16>>> results_;
  std::vector<size_t> result_sizes_;
  // Host-mode scalars copied out of the payload: a scalar's bytes sit at any
  // offset there, and the library loads them as double or cuDoubleComplex.
  std::vector<std::unique_ptr<std::array<uint64_t, 2>>> scalars_;
  // Host int arrays copied out of the values (Ints).
  std::vector<std::unique_ptr<std::vector<int>>> int_arrays_;
  std::vector<std::unique_ptr<std::vector<long long>>> int64_arrays_;
  std::vector<std::unique_ptr<std::vector<uint8_t>>> host_scratch_;
  // DevicePointerArray synchronized the device during this call.
  mutable bool device_idle_ = false;
  // Ints and Int64s: a presence value, then `count` values into a new array.
  template <class Int>
  bool IntArray(__int128 count, std::vector<std::unique_ptr<std::vector<Int>>>* arrays, Int** p);
  std::vector<int64_t> out_values_;
  std::vector<uint8_t> out_bytes_;
};

inline __int128 Wide(int64_t v) { return v; }
inline __int128 Wide(uint64_t v) { return v; }
inline __int128 Abs128(__int128 v) { return v < 0 ? -v : v; }

// Serves one LibraryCall: the library's status, and the reply's values and
// bytes. `*known` is false for a library id this worker does not forward.
int ServeLibraryCall(uint32_t library, uint32_t function, std::span<const int64_t> values,
                     std::span<const uint8_t> bytes, const LibrarySession& session, bool* known,
                     std::vector<int64_t>* out_values, std::vector<uint8_t>* out_bytes);

}  // namespace rcuda::library
