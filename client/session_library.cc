// Session's LibraryCall: a call of a forwarded math library
// (client/private_library_abi.h), one synchronous round trip.
#include "client/session.h"

namespace rcuda::client {

Status Session::LibraryCall(uint32_t library, uint32_t function, std::span<const int64_t> values,
                            std::span<const uint8_t> bytes, int32_t* status, std::vector<int64_t>* out_values,
                            std::vector<uint8_t>* out_bytes) {
  MutexLock lock(&mu_);
  RCUDA_RETURN_IF_ERROR(ConnectLocked());
  auto v = builder_.CreateVector(values.data(), values.size());
  auto b = builder_.CreateVector(bytes.data(), bytes.size());
  auto body = wire::CreateLibraryCall(builder_, library, function, v, b);
  const wire::LibraryCallReply* r = nullptr;
  Status s = CallForLocked(wire::Request::LibraryCall, body.Union(), &r);
  if (r == nullptr) return s;
  *status = r->status();
  out_values->clear();
  out_bytes->clear();
  if (r->values() != nullptr) out_values->assign(r->values()->begin(), r->values()->end());
  if (r->bytes() != nullptr) out_bytes->assign(r->bytes()->begin(), r->bytes()->end());
  return s;
}

}  // namespace rcuda::client
