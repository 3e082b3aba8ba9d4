// The libcudart side of client/private_library_abi.h.
#include "client/private_library_abi.h"

#include <algorithm>
#include <cstring>
#include <iterator>
#include <map>
#include <mutex>
#include <span>
#include <utility>
#include <vector>

#include "client/api_common.h"
#include "client/objects.h"

namespace rcuda::client {
namespace {

// The streams handed to libraries, by (session, handle): GetStream answers
// a handle, the program wants its cudaStream_t back.
std::mutex& StreamsMu() {
  static auto* mu = new std::mutex;
  return *mu;
}
std::map<std::pair<Session*, uint64_t>, cudaStream_t>& Streams() {
  static auto* streams = new std::map<std::pair<Session*, uint64_t>, cudaStream_t>;
  return *streams;
}

// The current device's session, or null with *error set. Unlike the
// runtime's exports, nothing here sets the thread's last CUDA error: these
// are the library's calls, which report through their own status.
Session* CurrentLibrarySession(int* error) {
  cudaError_t e = cudaSuccess;
  Session* session = CurrentSession(&e);
  *error = e;
  return session;
}

}  // namespace
}  // namespace rcuda::client

using rcuda::client::Session;

extern "C" RCUDA_EXPORT int rcudaPrivateLibraryCall(const rcudaLibraryCall* call, rcudaLibraryReply* reply) {
  if (call == nullptr || reply == nullptr) return cudaErrorInvalidValue;
  if ((call->value_count > 0 && call->values == nullptr) || (call->byte_count > 0 && call->bytes == nullptr)) {
    return cudaErrorInvalidValue;
  }
  int error = 0;
  Session* session = rcuda::client::CurrentLibrarySession(&error);
  if (session == nullptr) return error;
  int32_t status = 0;
  std::vector<int64_t> values;
  std::vector<uint8_t> bytes;
  rcuda::Status s = session->LibraryCall(call->library, call->function, {call->values, call->value_count},
                                         {call->bytes, call->byte_count}, &status, &values, &bytes);
  if (!s.ok()) return s.ToCudaError();
  if (values.size() > std::size(reply->values) || bytes.size() > sizeof reply->bytes) return cudaErrorInvalidValue;
  reply->status = status;
  reply->value_count = values.size();
  std::copy(values.begin(), values.end(), reply->values);
  reply->byte_count = bytes.size();
  if (!bytes.empty()) std::memcpy(reply->bytes, bytes.data(), bytes.size());
  return cudaSuccess;
}

extern "C" RCUDA_EXPORT int rcudaPrivateStreamHandle(void* stream, uint64_t* handle) {
  if (handle == nullptr) return cudaErrorInvalidValue;
  int error = 0;
  Session* session = rcuda::client::CurrentLibrarySession(&error);
  if (session == nullptr) return error;
  rcuda::client::StreamRef ref;
  cudaError_t e = rcuda::client::ResolveStream(static_cast<cudaStream_t>(stream), false, &ref);
  if (e != cudaSuccess) return e;
  if (ref.session != session) return cudaErrorInvalidResourceHandle;
  *handle = ref.remote;
  if (ref.remote != 0) {
    std::lock_guard lock(rcuda::client::StreamsMu());
    rcuda::client::Streams()[{session, ref.remote}] = static_cast<cudaStream_t>(stream);
  }
  return cudaSuccess;
}

extern "C" RCUDA_EXPORT int rcudaPrivateStreamOfHandle(uint64_t handle, void** stream) {
  if (stream == nullptr) return cudaErrorInvalidValue;
  if (handle == 0) {
    *stream = nullptr;
    return cudaSuccess;
  }
  int error = 0;
  Session* session = rcuda::client::CurrentLibrarySession(&error);
  if (session == nullptr) return error;
  cudaStream_t found = nullptr;
  {
    std::lock_guard lock(rcuda::client::StreamsMu());
    auto it = rcuda::client::Streams().find({session, handle});
    if (it == rcuda::client::Streams().end()) return cudaErrorInvalidResourceHandle;
    found = it->second;
  }
  // Still the same live stream (not destroyed, its handle not reused)?
  rcuda::client::StreamRef ref;
  if (rcuda::client::ResolveStream(found, false, &ref) != cudaSuccess || ref.remote != handle) {
    return cudaErrorInvalidResourceHandle;
  }
  *stream = found;
  return cudaSuccess;
}
