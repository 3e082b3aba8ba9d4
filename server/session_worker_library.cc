// SessionWorker's LibraryCall (server/library_call.h): a call of a
// forwarded math library, served on the session's thread with its context
// current.
#include <flatbuffers/flatbuffers.h>

#include "common/cuda_error_codes.h"
#include "server/library_call.h"
#include "server/session_worker.h"

namespace rcuda {

Status SessionWorker::HandleLibraryCall(const wire::LibraryCall& r, uint64_t id) {
  std::span<const int64_t> values;
  std::span<const uint8_t> bytes;
  if (r.values() != nullptr) values = {r.values()->data(), r.values()->size()};
  if (r.bytes() != nullptr) bytes = {r.bytes()->data(), r.bytes()->size()};
  library::LibrarySession session{&libraries_, &handles_, &allocations_, executor_.get()};
  std::vector<int64_t> out_values;
  std::vector<uint8_t> out_bytes;
  bool known = false;
  int status = library::ServeLibraryCall(r.library(), r.function(), values, bytes, session, &known, &out_values,
                                         &out_bytes);
  builder_.Clear();
  if (!known) {
    return SendReply(id, Status::InvalidValue("LibraryCall: no library " + std::to_string(r.library()) +
                                              " is forwarded by this server"));
  }
  auto v = builder_.CreateVector(out_values);
  auto b = builder_.CreateVector(out_bytes);
  auto body = wire::CreateLibraryCallReply(builder_, status, v, b);
  return SendReply(id, Status::Ok(), wire::ReplyBody::LibraryCallReply, body.Union());
}

}  // namespace rcuda
