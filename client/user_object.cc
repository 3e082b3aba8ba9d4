#include "client/user_object.h"

#include <mutex>
#include <unordered_set>

namespace rcuda::client {
namespace {

std::mutex& Mu() {
  static auto* mu = new std::mutex;
  return *mu;
}
std::unordered_set<const UserObject*>& Live() {
  static auto* live = new std::unordered_set<const UserObject*>;
  return *live;
}

}  // namespace

UserObject* NewUserObject(void* ptr, cudaHostFn_t destroy, unsigned refs) {
  auto* object = new UserObject{ptr, destroy, {refs}};
  std::lock_guard lock(Mu());
  Live().insert(object);
  return object;
}

UserObject* FindUserObject(cudaUserObject_t handle) {
  auto* object = reinterpret_cast<UserObject*>(handle);
  std::lock_guard lock(Mu());
  return Live().count(object) ? object : nullptr;
}

void RetainUserObject(UserObject* object, unsigned count) {
  std::lock_guard lock(Mu());
  object->refs += count;
}

bool ReleaseUserObject(UserObject* object, unsigned count) {
  {
    std::lock_guard lock(Mu());
    if (object->refs < count) return false;
    object->refs -= count;
    if (object->refs != 0) return true;
    Live().erase(object);
  }
  // Outside the lock: the destructor may create or release other objects.
  object->destroy(object->ptr);
  delete object;
  return true;
}

}  // namespace rcuda::client
