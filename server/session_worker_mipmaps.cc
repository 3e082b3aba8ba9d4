// Mipmapped CUDA arrays: the semantics beyond forwarding
// (protocol/rpc/operations.def, "A mipmapped array"). The levels' sum is
// charged to the session's grant, checked before anything is allocated; the
// level arrays the session is given are handles it may name until their
// mipmapped array is destroyed, when they are forgotten with it.
#include <string>

#include "protocol/array_format.h"
#include "server/executor_calls.h"
#include "server/session_worker.h"

namespace rcuda {

Status SessionWorker::OnMipmappedArrayCreate(int64_t width, int64_t height, int64_t depth, int64_t format,
                                             int64_t channels, int64_t flags, int64_t levels, uint64_t* mipmap) {
  const bool layered = (flags & kArrayLayeredFlag) != 0;  // the executor checks the other flags
  const int64_t count = MipmapLevelCount(width, height, depth, layered, levels);
  uint64_t bytes = 0;
  if (count == 0 || !MipmapBytes(width, height, depth, format, channels, layered, count, &bytes)) {
    return Status::InvalidValue("MipmappedArrayCreate: an impossible size or an unsupported element format");
  }
  if (!ChargeOrRefresh(bytes)) {
    return Status::OutOfMemory("a mipmapped CUDA array of " + std::to_string(bytes) +
                               " bytes exceeds the memory grant of the session's lease (" +
                               std::to_string(budget_.limit()) + " bytes)");
  }
  Status s = calls::MipmappedArrayCreate(*executor_, width, height, depth, format, channels, flags, levels, mipmap);
  if (!s.ok()) {
    budget_.Release(bytes);
    return s;
  }
  mipmap_bytes_[*mipmap] = bytes;
  return Status::Ok();
}

Status SessionWorker::OnMipmappedArrayGetLevel(uint64_t mipmap, int64_t level, uint64_t* array) {
  RCUDA_RETURN_IF_ERROR(calls::MipmappedArrayGetLevel(*executor_, mipmap, level, array));
  mipmap_levels_[mipmap].insert(*array);
  return Status::Ok();
}

Status SessionWorker::OnMipmappedArrayDestroy(uint64_t mipmap) {
  RCUDA_RETURN_IF_ERROR(calls::MipmappedArrayDestroy(*executor_, mipmap));
  if (auto it = mipmap_levels_.find(mipmap); it != mipmap_levels_.end()) {
    for (uint64_t level : it->second) handles_.Remove(HandleKind::kArray, level);
    mipmap_levels_.erase(it);
  }
  if (auto it = mipmap_bytes_.find(mipmap); it != mipmap_bytes_.end()) {
    budget_.Release(it->second);
    mipmap_bytes_.erase(it);
  }
  return Status::Ok();
}

}  // namespace rcuda
