#include "server/handle_table.h"

namespace rcuda {

const char* HandleKindName(HandleKind kind) {
  switch (kind) {
    case HandleKind::kStream: return "stream";
    case HandleKind::kEvent: return "event";
    case HandleKind::kFunction: return "function";
    case HandleKind::kGraphExec: return "executable graph";
    case HandleKind::kPool: return "memory pool";
    case HandleKind::kLibrary: return "library handle";
    case HandleKind::kArray: return "CUDA array";
    case HandleKind::kTexture: return "texture object";
    case HandleKind::kSurface: return "surface object";
    case HandleKind::kMipmap: return "mipmapped CUDA array";
  }
  return "handle";
}

bool HandleTable::Has(HandleKind kind, uint64_t handle) const {
  if (kind == HandleKind::kStream && handle == 0) return true;
  return handles_.count(Key{kind, handle}) != 0;
}

void HandleTable::Add(HandleKind kind, uint64_t handle, bool counted) {
  auto [it, added] = handles_.try_emplace(Key{kind, handle}, counted);
  if (!added && (it->second || !counted)) return;
  it->second = counted;
  if (counted) ++counted_;
}

void HandleTable::Remove(HandleKind kind, uint64_t handle) {
  auto it = handles_.find(Key{kind, handle});
  if (it == handles_.end()) return;
  if (it->second) --counted_;
  handles_.erase(it);
}

}  // namespace rcuda
