// HandleTable: the streams, events, functions, executable graphs, memory
// pools, CUDA arrays and mipmapped arrays, texture and surface objects and math library handles (server/library_call.h) a session may name. The executor hands out handles; the session
// worker records each as the operation that made it returns it, and checks
// every handle argument against its table before the executor sees it (the
// dispatcher does, from the operations' descriptions: protocol/rpc/), so
// that no request can reach the executor with an object it never had or
// one of another kind.
//
// Handles the session created (streams, events, executable graphs, pools it
// made) count against a cap; those it only learns (its modules' functions,
// the device's own pools) do not.
//
// Not thread-safe: the session's thread owns it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>

namespace rcuda {

enum class HandleKind : uint8_t { kStream, kEvent, kFunction, kGraphExec, kPool, kLibrary, kArray, kTexture, kSurface,
                                  kMipmap };

const char* HandleKindName(HandleKind kind);

class HandleTable {
 public:
  explicit HandleTable(size_t max_counted) : max_counted_(max_counted) {}

  // Whether `handle` is one of the session's objects of `kind`. Stream 0,
  // the legacy default stream, is everyone's.
  bool Has(HandleKind kind, uint64_t handle) const;
  // Whether the session may create one more counted handle.
  bool HasRoom() const { return counted_ < max_counted_; }
  // Records a handle; adding one already there changes nothing (a handle
  // the session learnt and later made counts once).
  void Add(HandleKind kind, uint64_t handle, bool counted);
  // Forgets a handle (destroyed, or its module unloaded).
  void Remove(HandleKind kind, uint64_t handle);
  size_t counted() const { return counted_; }

 private:
  struct Key {
    HandleKind kind;
    uint64_t handle;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const { return std::hash<uint64_t>()(k.handle * 8 + static_cast<int>(k.kind)); }
  };

  const size_t max_counted_;
  size_t counted_ = 0;
  std::unordered_map<Key, bool, KeyHash> handles_;  // -> counted
};

}  // namespace rcuda
