// User objects and the references graphs hold to them (client/user_object.h).
#include "client/api_common.h"
#include "client/graph.h"
#include "client/user_object.h"

using namespace rcuda::client;

extern "C" {

RCUDA_EXPORT cudaError_t cudaUserObjectCreate(cudaUserObject_t* object, void* ptr, cudaHostFn_t destroy,
                                              unsigned int refs, unsigned int flags) {
  // CUDA requires the flag: the destructor is synchronized with nothing.
  if (!object || !destroy || refs == 0 || flags != cudaUserObjectNoDestructorSync)
    return Fail(cudaErrorInvalidValue);
  *object = reinterpret_cast<cudaUserObject_t>(NewUserObject(ptr, destroy, refs));
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaUserObjectRetain(cudaUserObject_t object, unsigned int count) {
  UserObject* o = FindUserObject(object);
  if (!o || count == 0) return Fail(cudaErrorInvalidValue);
  RetainUserObject(o, count);
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaUserObjectRelease(cudaUserObject_t object, unsigned int count) {
  UserObject* o = FindUserObject(object);
  if (!o || count == 0 || !ReleaseUserObject(o, count)) return Fail(cudaErrorInvalidValue);
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaGraphRetainUserObject(cudaGraph_t graph, cudaUserObject_t object, unsigned int count,
                                                   unsigned int flags) {
  GraphObject* g = FindGraph(graph);
  UserObject* o = FindUserObject(object);
  if (!g || !o || count == 0 || (flags & ~static_cast<unsigned>(cudaGraphUserObjectMove)))
    return Fail(cudaErrorInvalidValue);
  // Move: the graph takes the caller's references instead of new ones.
  if (!(flags & cudaGraphUserObjectMove)) RetainUserObject(o, count);
  g->user_objects[o] += count;
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaGraphReleaseUserObject(cudaGraph_t graph, cudaUserObject_t object, unsigned int count) {
  GraphObject* g = FindGraph(graph);
  UserObject* o = FindUserObject(object);
  if (!g || !o || count == 0) return Fail(cudaErrorInvalidValue);
  auto it = g->user_objects.find(o);
  if (it == g->user_objects.end() || it->second < count) return Fail(cudaErrorInvalidValue);
  if ((it->second -= count) == 0) g->user_objects.erase(it);
  ReleaseUserObject(o, count);
  return cudaSuccess;
}

}  // extern "C"
