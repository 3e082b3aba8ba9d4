// User objects (cudaUserObjectCreate): a program's pointer and destructor,
// reference-counted, which graphs and their instantiations may hold so that
// resources a graph uses live as long as it can run. Host-side only, as in
// CUDA: the destructor runs on the client when the last reference goes (for
// an instantiation, after its launches finished: DestroyExec synchronizes
// before it lets go of its graph).
#pragma once

#include <cuda_runtime_api.h>

#include <atomic>
#include <cstdint>

namespace rcuda::client {

struct UserObject {
  void* ptr;
  cudaHostFn_t destroy;
  std::atomic<uint64_t> refs;
};

// A new object with `refs` references; the handle.
UserObject* NewUserObject(void* ptr, cudaHostFn_t destroy, unsigned refs);
// The object behind a handle, or null if it is not a live one.
UserObject* FindUserObject(cudaUserObject_t handle);
void RetainUserObject(UserObject* object, unsigned count);
// Drops `count` references; the last runs the destructor and frees the
// object. False if the object has fewer references than that (nothing changes).
bool ReleaseUserObject(UserObject* object, unsigned count);

}  // namespace rcuda::client
