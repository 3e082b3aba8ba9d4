// Stream attributes: cudaStreamSetAttribute, cudaStreamGetAttribute and
// cudaStreamCopyAttributes, forwarded to the stream's server (the access
// policy window, which the server checks against the session's memory, the
// synchronization policy and the priority). Other attributes are not stream
// attributes rcuda forwards: cudaErrorNotSupported, logged once.
#include <mutex>

#include "client/api_common.h"
#include "client/log.h"
#include "client/objects.h"

using namespace rcuda::client;

namespace {

cudaError_t Unsupported(cudaStreamAttrID attr) {
  static std::once_flag once;
  std::call_once(once, [&] {
    Log(LogLevel::kWarn, "cudaStream{Set,Get}Attribute: attribute " + std::to_string(static_cast<int>(attr)) +
                             " is not forwarded (only the access policy window, synchronization policy and "
                             "priority are)");
  });
  return Fail(cudaErrorNotSupported);
}

bool Forwarded(cudaStreamAttrID attr) {
  return attr == cudaStreamAttributeAccessPolicyWindow || attr == cudaStreamAttributeSynchronizationPolicy ||
         attr == cudaStreamAttributePriority;
}

cudaError_t SetAttribute(cudaStream_t stream, cudaStreamAttrID attr, const cudaStreamAttrValue* value,
                         bool per_thread) {
  if (!value) return Fail(cudaErrorInvalidValue);
  if (!Forwarded(attr)) return Unsupported(attr);
  StreamRef ref;
  cudaError_t e = ResolveStream(stream, per_thread, &ref);
  if (e != cudaSuccess) return Fail(e);
  rcuda::Status s;
  if (attr == cudaStreamAttributeAccessPolicyWindow) {
    const cudaAccessPolicyWindow& w = value->accessPolicyWindow;
    s = ref.session->StreamSetAccessPolicyWindow(ref.remote, reinterpret_cast<uintptr_t>(w.base_ptr), w.num_bytes,
                                                 w.hitRatio, static_cast<uint32_t>(w.hitProp),
                                                 static_cast<uint32_t>(w.missProp));
  } else {
    int32_t v = attr == cudaStreamAttributePriority ? value->priority : static_cast<int32_t>(value->syncPolicy);
    if (attr == cudaStreamAttributePriority)  // clamped, as CUDA does, and kept for cudaStreamGetPriority
      v = std::min(ref.session->stream_priority_least(), std::max(ref.session->stream_priority_greatest(), v));
    s = ref.session->StreamSetAttributeValue(ref.remote, static_cast<uint32_t>(attr), v);
    if (s.ok() && attr == cudaStreamAttributePriority && ref.object) ref.object->priority = v;
  }
  return Return(s);
}

cudaError_t GetAttribute(cudaStream_t stream, cudaStreamAttrID attr, cudaStreamAttrValue* value, bool per_thread) {
  if (!value) return Fail(cudaErrorInvalidValue);
  if (!Forwarded(attr)) return Unsupported(attr);
  StreamRef ref;
  cudaError_t e = ResolveStream(stream, per_thread, &ref);
  if (e != cudaSuccess) return Fail(e);
  uint64_t base = 0, bytes = 0;
  float hit_ratio = 0;
  uint32_t hit_prop = 0, miss_prop = 0, sync_policy = 0;
  int32_t priority = 0;
  rcuda::Status s = ref.session->StreamGetAttributes(ref.remote, &base, &bytes, &hit_ratio, &hit_prop, &miss_prop,
                                                     &sync_policy, &priority);
  if (!s.ok()) return Return(s);
  if (attr == cudaStreamAttributeAccessPolicyWindow) {
    value->accessPolicyWindow = {reinterpret_cast<void*>(static_cast<uintptr_t>(base)), bytes, hit_ratio,
                                 static_cast<cudaAccessProperty>(hit_prop), static_cast<cudaAccessProperty>(miss_prop)};
  } else if (attr == cudaStreamAttributeSynchronizationPolicy) {
    value->syncPolicy = static_cast<cudaSynchronizationPolicy>(sync_policy);
  } else {
    value->priority = priority;
  }
  return cudaSuccess;
}

cudaError_t CopyAttributes(cudaStream_t dst, cudaStream_t src, bool per_thread) {
  StreamRef to, from;
  cudaError_t e = ResolveStream(dst, per_thread, &to);
  if (e == cudaSuccess) e = ResolveStream(src, per_thread, &from);
  if (e != cudaSuccess) return Fail(e);
  if (to.session != from.session) return Fail(cudaErrorInvalidValue);  // streams of two devices
  rcuda::Status s = to.session->StreamCopyAttributes(to.remote, from.remote);
  if (s.ok() && to.object) to.object->priority = from.object ? from.object->priority : 0;
  return Return(s);
}

}  // namespace

cudaError_t exports::cudaStreamSetAttribute(cudaStream_t stream, cudaStreamAttrID attr,
                                            const cudaStreamAttrValue* value, bool per_thread) {
  return SetAttribute(stream, attr, value, per_thread);
}

cudaError_t exports::cudaStreamGetAttribute(cudaStream_t stream, cudaStreamAttrID attr, cudaStreamAttrValue* value,
                                            bool per_thread) {
  return GetAttribute(stream, attr, value, per_thread);
}

cudaError_t exports::cudaStreamCopyAttributes(cudaStream_t dst, cudaStream_t src, bool per_thread) {
  return CopyAttributes(dst, src, per_thread);
}
