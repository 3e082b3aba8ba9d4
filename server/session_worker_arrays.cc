// CUDA arrays, texture and surface objects: the semantics beyond forwarding
// (protocol/rpc/operations.def, "CUDA arrays..."). An array is charged to the
// session's grant by its size, checked before anything is allocated; a copy
// between an array and device memory has its device range checked here
// (overflow-safe: the dispatcher's size expressions would wrap), its array
// rectangle by the executor, which knows the array's shape.
#include <string>

#include "protocol/array_format.h"
#include "server/executor_calls.h"
#include "server/session_worker.h"

namespace rcuda {
namespace {

Status ArrayGrantSpent(uint64_t bytes, uint64_t limit) {
  return Status::OutOfMemory("a CUDA array of " + std::to_string(bytes) +
                             " bytes exceeds the memory grant of the session's lease (" + std::to_string(limit) +
                             " bytes)");
}

}  // namespace

Status SessionWorker::OnArrayCreate(int64_t width, int64_t height, int64_t depth, int64_t format, int64_t channels,
                                    int64_t flags, uint64_t* array) {
  uint64_t bytes = 0;
  if (!ArrayBytes(width, height, depth, format, channels, &bytes)) {
    return Status::InvalidValue("ArrayCreate: an impossible size or an unsupported element format");
  }
  if (!ChargeOrRefresh(bytes)) return ArrayGrantSpent(bytes, budget_.limit());
  Status s = calls::ArrayCreate(*executor_, width, height, depth, format, channels, flags, array);
  if (!s.ok()) {
    budget_.Release(bytes);
    return s;
  }
  array_bytes_[*array] = bytes;
  return Status::Ok();
}

Status SessionWorker::OnArrayDestroy(uint64_t array) {
  RCUDA_RETURN_IF_ERROR(calls::ArrayDestroy(*executor_, array));
  if (auto it = array_bytes_.find(array); it != array_bytes_.end()) {
    budget_.Release(it->second);
    array_bytes_.erase(it);
  }
  return Status::Ok();
}

Status SessionWorker::OnArrayCopyDevice(uint64_t array, uint64_t x, uint64_t y, uint64_t device, uint64_t pitch,
                                        uint64_t width, uint64_t height, bool to_array, uint64_t stream) {
  if (height == 0 || width == 0) return Status::Ok();
  if (height > 1 && pitch < width) return Status::InvalidValue("ArrayCopyDevice: a pitch below the width");
  // [device, device + pitch * (height - 1) + width)
  uint64_t span = 0;
  if (__builtin_mul_overflow(pitch, height - 1, &span) || __builtin_add_overflow(span, width, &span)) {
    return Status::InvalidValue("ArrayCopyDevice: an impossible extent");
  }
  RCUDA_RETURN_IF_ERROR(CheckMemory("ArrayCopyDevice", "device", device, span));
  return executor_->ArrayCopyDevice(array, x, y, device, pitch, width, height, to_array, stream);
}

Status SessionWorker::OnTexObjectCreate(int64_t res_type, uint64_t array, int64_t device, int64_t format,
                                        int64_t channels, int64_t width, int64_t height, int64_t pitch,
                                        int64_t address, int64_t filter, int64_t flags, int64_t border_rg,
                                        int64_t border_ba, uint64_t* texture) {
  const uint64_t base = static_cast<uint64_t>(device);
  if (res_type == 0) {
    if (array == 0) return Status::InvalidValue("TexObjectCreate: an array resource without its array");
  } else if (res_type == 1 || res_type == 2) {
    // Linear: `width` bytes; pitch2D: `height` rows `pitch` apart, each
    // `width` elements. Either lies in the session's memory.
    uint32_t element = ArrayElementBytes(format, channels);
    uint64_t span = 0;
    bool bad = element == 0 || width <= 0 || array != 0;
    if (!bad && res_type == 1) {
      span = static_cast<uint64_t>(width);
    } else if (!bad) {
      uint64_t row = 0;
      bad = height <= 0 || pitch <= 0 ||
            __builtin_mul_overflow(static_cast<uint64_t>(width), element, &row) ||
            static_cast<uint64_t>(pitch) < row ||
            __builtin_mul_overflow(static_cast<uint64_t>(pitch), static_cast<uint64_t>(height - 1), &span) ||
            __builtin_add_overflow(span, row, &span);
    }
    if (bad) return Status::InvalidValue("TexObjectCreate: an impossible linear or pitched resource");
    RCUDA_RETURN_IF_ERROR(CheckMemory("TexObjectCreate", "device", base, span));
  } else {
    return Status::InvalidValue("TexObjectCreate: resource type " + std::to_string(res_type) +
                                " (rcuda carries arrays, linear and pitch2D memory)");
  }
  return calls::TexObjectCreate(*executor_, res_type, array, device, format, channels, width, height, pitch, address,
                                filter, flags, border_rg, border_ba, texture);
}

Status SessionWorker::HandleArrayCopyToHost(const wire::ArrayCopyToHost& r, uint64_t id) {
  builder_.Clear();
  uint64_t bytes = 0;
  if (__builtin_mul_overflow(r.width(), r.height(), &bytes)) {
    return SendReply(id, Status::InvalidValue("ArrayCopyToHost: an impossible extent"));
  }
  if (bytes == 0) return SendReply(id, Status::Ok());
  return StreamReply(id, bytes, [&](const ChunkWriter& write) {
    return executor_->ArrayCopyToHost(r.array(), r.x(), r.y(), r.width(), r.height(), r.stream(), write);
  });
}

}  // namespace rcuda
